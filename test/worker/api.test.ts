import { SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { deriveServiceSigner } from "../../src/sign/signing-keys";
import { emptyNodeStorage } from "./empty-node";

// Fixed ids and digests, or counts over the whole node: start from an empty D1 and R2 (empty-node.ts).
beforeAll(emptyNodeStorage);

const auth = { authorization: "Bearer test-token" };
const json = { ...auth, "content-type": "application/json" };
const manager = (address: string) => ({ service_manager: { evm: { chain: "evm:31337", address } } });

async function call(method: string, path: string, init: { headers?: Record<string, string>; body?: BodyInit } = {}) {
  const res = await SELF.fetch(`http://node${path}`, { method, ...init });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined, text };
}

describe("errors are JSON with a code", () => {
  it("404 for an unknown route", async () => {
    const res = await call("GET", "/nope");
    expect(res.status).toBe(404);
    expect(res.body.error).toEqual({ code: "not_found", message: "no route for GET /nope" });
  });

  it("400 for malformed JSON, 422 naming the bad field", async () => {
    expect((await call("POST", "/services/signer", { headers: json, body: "{" })).body.error.code).toBe("invalid_json");
    const res = await call("POST", "/services/signer", { headers: json, body: JSON.stringify(manager("0x1")) });
    expect(res.status).toBe(422);
    expect(res.body.error.message).toContain("service_manager.evm.address");
  });

  it("401 with WWW-Authenticate without a valid token", async () => {
    for (const headers of [{}, { authorization: "Bearer wrong" }] as Record<string, string>[]) {
      const res = await call("POST", "/dev/services", { headers, body: "{}" });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe('Bearer realm="wavs-edge"');
    }
  });

  it("404 when registering a service on a chain the node does not know", async () => {
    const res = await call("POST", "/services", {
      headers: json,
      body: JSON.stringify(manager(`0x${"ab".repeat(20)}`)),
    });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("unknown_chain");
  });
});

describe("signing keys", () => {
  it("hands out persisted HD indexes from 1, one per service, as WAVS's /services/signer", async () => {
    const first = await call("POST", "/services/signer", {
      headers: json,
      body: JSON.stringify(manager(`0x${"11".repeat(20)}`)),
    });
    const again = await call("POST", "/services/signer", {
      headers: json,
      body: JSON.stringify(manager(`0x${"11".repeat(20)}`)),
    });
    const second = await call("POST", "/services/signer", {
      headers: json,
      body: JSON.stringify(manager(`0x${"22".repeat(20)}`)),
    });
    expect(first.body.secp256k1.hd_index).toBe(1);
    expect(again.body).toEqual(first.body);
    expect(second.body.secp256k1.hd_index).toBe(2);
    const mnemonic = "test test test test test test test test test test test junk";
    expect(second.body.secp256k1.evm_address).toBe(deriveServiceSigner(mnemonic, 2).address);
  });
});

describe("saved service JSON", () => {
  const service = JSON.stringify({
    name: "t",
    workflows: {
      default: {
        trigger: "manual",
        component: {
          source: { digest: "ab".repeat(32) },
          permissions: {},
          fuel_limit: 18446744073709551615n.toString(),
          time_limit_seconds: null,
          config: {},
          env_keys: [],
        },
        submit: "none",
      },
    },
    status: "active",
    manager: { evm: { chain: "evm:31337", address: `0x${"33".repeat(20)}` } },
  }).replace('"18446744073709551615"', "18446744073709551615");

  it("stores by sha256 and serves the exact bytes back", async () => {
    const saved = await call("POST", "/dev/services", { headers: json, body: service });
    expect(saved.body.hash).toMatch(/^[0-9a-f]{64}$/);
    const read = await call("GET", `/dev/services/${saved.body.hash}`);
    expect(read.text).toBe(service);
  });

  it("refuses invalid service JSON with the field's path", async () => {
    const res = await call("POST", "/dev/services", { headers: json, body: service.replace('"active"', '"on"') });
    expect(res.status).toBe(422);
    expect(res.body.error.message).toContain("status");
  });
});

describe("component upload", () => {
  it("refuses bytes that are not a component", async () => {
    for (const body of [new Uint8Array([1, 2, 3]), new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0])]) {
      const res = await call("POST", "/dev/components", { headers: auth, body });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("invalid_component");
    }
  });
});

describe("tasks", () => {
  it("validates the event id and 404s an unknown task", async () => {
    expect((await call("GET", "/tasks/xyz")).status).toBe(400);
    expect((await call("GET", `/tasks/0x${"00".repeat(20)}`)).status).toBe(404);
  });
});

describe("task list", () => {
  it("filters and validates its query", async () => {
    const res = await call("GET", "/tasks?status=landed&limit=5");
    expect(res.status).toBe(200);
    expect(res.body.tasks).toEqual([]);
    expect((await call("GET", "/tasks?status=bogus")).status).toBe(422);
    expect((await call("GET", "/tasks?limit=0")).status).toBe(422);
  });
});
