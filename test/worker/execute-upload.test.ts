import { SELF, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { computeComponentDigest } from "../../src/execute/component-store";
import { builtComponent } from "./component-fixtures";

const auth = { authorization: "Bearer test-token" };

async function call(method: string, path: string, init: { headers?: Record<string, string>; body?: BodyInit } = {}) {
  const res = await SELF.fetch(`http://node${path}`, { method, ...init });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

/** The component plus a custom section, so that its digest is new to this test. */
function freshCopy(name: string, tag: string): Uint8Array {
  const base = builtComponent(name);
  const label = new TextEncoder().encode(tag);
  return new Uint8Array([...base, 0x00, 1 + label.length, label.length, ...label]);
}

describe("POST /components", () => {
  it("stores an operator component: 201, then 200 for the same bytes, with its imports and exports", async () => {
    const bytes = freshCopy("square", "upload-1");
    const first = await call("POST", "/components", { headers: auth, body: bytes });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      digest: await computeComponentDigest(bytes),
      size: bytes.length,
      world: "operator",
    });
    expect(first.body.exports).toContainEqual({ name: "run", kind: "func" });
    expect(first.body.imports).toContainEqual({ name: "host", kind: "instance" });
    expect(first.body.imports).toContainEqual({ name: "wasi:cli/environment@0.2.12", kind: "instance" });
    const again = await call("POST", "/components", { headers: auth, body: bytes });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
  });

  it("recognises an aggregator component", async () => {
    const res = await call("POST", "/components", { headers: auth, body: builtComponent("simple-aggregator") });
    expect(res.body.world).toBe("aggregator");
    expect(res.body.exports.map((e: { name: string }) => e.name)).toEqual(
      expect.arrayContaining(["process-input", "handle-timer-callback", "handle-submit-callback"]),
    );
  });

  it("needs the bearer token", async () => {
    expect((await call("POST", "/components", { body: builtComponent("trap") })).status).toBe(401);
  });

  it.each([
    ["bytes that are not wasm", new TextEncoder().encode("hello, world"), "not-wasm", /magic number/],
    ["an empty body", new Uint8Array(), "not-wasm", /shorter than a wasm header/],
    ["a core module", new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]), "core-module", /core WebAssembly module/],
    [
      "a component cut short",
      builtComponent("trap").slice(0, 100),
      "malformed",
      /malformed WebAssembly component: section \d+ runs past the end/,
    ],
  ])("refuses %s with a precise 400", async (_what, body, reason, message) => {
    const res = await call("POST", "/components", { headers: auth, body });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: "invalid_component", details: { reason } });
    expect(res.body.error.message).toMatch(message);
  });

  it("refuses a component that exports neither world's functions, saying what it exports", async () => {
    const res = await call("POST", "/components", { headers: auth, body: builtComponent("not-wavs") });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual({ reason: "wrong-exports" });
    expect(res.body.error.message).toMatch(/neither the operator function `run`.*it exports: hello \(func\)$/);
  });

  it("answers 413 over 15 MB, on both upload routes", async () => {
    const big = new Uint8Array(15 * 1024 * 1024 + 1);
    big.set([0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0]);
    for (const path of ["/components", "/dev/components"]) {
      const res = await call("POST", path, { headers: auth, body: big });
      expect(res.status).toBe(413);
      expect(res.body.error.code).toBe("component_too_large");
    }
  });
});

describe("POST /dev/components", () => {
  it("answers only the digest, as WAVS", async () => {
    const bytes = freshCopy("square", "upload-dev");
    const res = await call("POST", "/dev/components", { headers: auth, body: bytes });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ digest: await computeComponentDigest(bytes) });
  });
});

describe("reading components", () => {
  it("GET and HEAD a stored component; 404 an unknown one; 400 a bad digest", async () => {
    const bytes = freshCopy("trap", "read-1");
    const { body: stored } = await call("POST", "/components", { headers: auth, body: bytes });
    const got = await call("GET", `/components/${stored.digest}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(stored);

    const head = await SELF.fetch(`http://node/components/${stored.digest}`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("x-component-size")).toBe(String(bytes.length));
    expect((await SELF.fetch(`http://node/components/${"0".repeat(64)}`, { method: "HEAD" })).status).toBe(404);

    const missing = await call("GET", `/components/${"0".repeat(64)}`);
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("component_not_found");
    expect((await call("GET", "/components/xyz")).body.error.code).toBe("invalid_digest");
  });

  it("reads the info of a component stored without it", async () => {
    const bytes = freshCopy("square", "no-info");
    const digest = await computeComponentDigest(bytes);
    await env.COMPONENTS.put(`components/${digest}`, bytes);
    const got = await call("GET", `/components/${digest}`);
    expect(got.body).toMatchObject({ digest, size: bytes.length, world: "operator" });
    expect(await env.COMPONENTS.head(`component-info/${digest}`)).not.toBeNull();
  });

  it("lists components a page at a time", async () => {
    for (const tag of ["list-a", "list-b", "list-c"]) {
      await call("POST", "/components", { headers: auth, body: freshCopy("trap", tag) });
    }
    const first = await call("GET", "/components?limit=2");
    expect(first.status).toBe(200);
    expect(first.body.components).toHaveLength(2);
    expect(first.body.components[0]).toEqual({
      digest: expect.stringMatching(/^[0-9a-f]{64}$/),
      size: expect.any(Number),
      uploaded: expect.any(String),
    });
    expect(first.body.cursor).toEqual(expect.any(String));
    const all: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await call("GET", `/components?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      all.push(...page.body.components.map((c: { digest: string }) => c.digest));
      cursor = page.body.cursor;
    } while (cursor);
    expect(new Set(all).size).toBe(all.length);
    expect(all.length).toBeGreaterThanOrEqual(3);
    expect((await call("GET", "/components?limit=0")).status).toBe(400);
  });
});
