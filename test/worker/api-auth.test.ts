import { createExecutionContext, env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { PEER_HEADER } from "../../src/aggregate/peers";
import { createApp } from "../../src/api/app";
import { addChainWithoutCheck } from "./chain-fixtures";

async function call(method: string, path: string, init: { headers?: Record<string, string>; body?: BodyInit } = {}) {
  const res = await SELF.fetch(`http://node${path}`, { method, ...init });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined, text };
}

describe("builder token", () => {
  const builder = { authorization: "Bearer builder-token" };

  it("is accepted for component upload", async () => {
    // 400 invalid_component: past auth, refused for its bytes.
    const res = await call("POST", "/dev/components", { headers: builder, body: new Uint8Array([1, 2, 3]) });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("invalid_component");
  });

  it("is refused everywhere else", async () => {
    const json = { ...builder, "content-type": "application/json" };
    for (const [method, path] of [
      ["POST", "/dev/services"],
      ["POST", "/services"],
      ["DELETE", "/services"],
      ["POST", "/services/signer"],
    ]) {
      const res = await call(method!, path!, { headers: json, body: "{}" });
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe('Bearer realm="wavs-edge"');
    }
  });
});

describe("WAVS_BEARER_TOKEN guards every mutating route", () => {
  // Read from the generated document, which lists every mounted route (api-docs.test.ts).
  // Peer and indexer routes authenticate each delivery instead: by signature, by HMAC.
  const SELF_AUTHENTICATED = /^\/(webhooks|aggregator)\//;
  const UPLOADS = ["/dev/components", "/components"];
  const fill = (path: string) =>
    path.replace(/\{(\w+)\}/g, (_, name: string) =>
      name === "chain" ? "evm:31337" : name === "source" ? "test_source" : "0".repeat(64),
    );

  it("401s without a token or with the builder's (except uploads), and the document says so", async () => {
    const doc = (await (await SELF.fetch("http://node/api-docs/openapi.json")).json()) as {
      paths: Record<string, Record<string, { security?: unknown[] }>>;
    };
    const mutating = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops)
        .filter(([m]) => m !== "get")
        .map(([method, op]) => ({ path, method, op })),
    );
    expect(mutating.length).toBeGreaterThan(8);
    for (const { path, method, op } of mutating) {
      if (SELF_AUTHENTICATED.test(path)) {
        expect(op.security, `${method} ${path}`).toBeUndefined();
        continue;
      }
      expect(op.security, `${method} ${path} documents its bearer`).toEqual([{ bearer: [] }]);
      for (const token of [undefined, "wrong", "builder-token"]) {
        if (token === "builder-token" && UPLOADS.includes(path)) continue;
        const res = await call(method.toUpperCase(), fill(path), {
          headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
          body: "{}",
        });
        expect(res.status, `${method} ${path} with ${token ?? "no token"}`).toBe(401);
        expect(res.headers.get("www-authenticate")).toBe('Bearer realm="wavs-edge"');
      }
    }
  });
});

describe("webhook 401s", () => {
  it("name the HMAC scheme in WWW-Authenticate", async () => {
    await addChainWithoutCheck(4343);
    const res = await call("POST", "/webhooks/test_source?chain=evm:4343", {
      headers: { "content-type": "application/json" },
      body: "[]",
    });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe('HMAC-SHA256 realm="wavs-edge-webhooks"');
  });
});

describe("GET /config", () => {
  it("shows the configuration and redacts every secret", async () => {
    const res = await call("GET", "/config");
    expect(res.status).toBe(200);
    expect(res.body.secrets).toEqual({
      WAVS_SIGNING_MNEMONIC: "set",
      WAVS_AGGREGATOR_EVM_CREDENTIAL: "set",
      WAVS_BEARER_TOKEN: "set",
      WAVS_BUILDER_TOKEN: "set",
    });
    expect(res.body.component_env_keys).toEqual([
      "WAVS_ENV_ORACLE_API_KEY",
      "WAVS_ENV_TEST_API_KEY",
      "WAVS_ENV_VISIT_API_KEY",
    ]);
    expect(res.body.webhook_secrets).toEqual(["WEBHOOK_SECRET_TEST_SOURCE"]);
    expect(res.body.cors_origins).toEqual(["https://app.example"]);
    expect(res.body.submitter_address).toMatch(/^0x[0-9a-fA-F]{40}$/);
    for (const secret of [
      "test test test",
      "test-token",
      "builder-token",
      "component-secret",
      "whsec-test",
      "visit-secret",
      "oracle-secret",
    ]) {
      expect(res.text).not.toContain(secret);
    }
  });
});

describe("CORS allow-list", () => {
  it("answers allowed origins and ignores others", async () => {
    const preflight = (origin: string) =>
      call("OPTIONS", "/services", { headers: { origin, "access-control-request-method": "POST" } });
    const ok = await preflight("https://app.example");
    expect(ok.status).toBe(204);
    expect(ok.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(ok.headers.get("access-control-allow-headers")).toContain("authorization");
    const other = await preflight("https://evil.example");
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
    const get = await call("GET", "/services", { headers: { origin: "https://app.example" } });
    expect(get.headers.get("access-control-allow-origin")).toBe("https://app.example");
  });
});

describe("body limits", () => {
  it("413s a JSON body over 1 MiB", async () => {
    const res = await call("POST", "/dev/services", {
      headers: { authorization: "Bearer test-token", "content-type": "application/json" },
      body: `{"name":"${"x".repeat(1 << 20)}"}`,
    });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe("body_too_large");
  });
});

describe("rate limits on webhook and peer routes", () => {
  // vitest.config.ts sets both limiters to 5 per 60 s. Local limiters count in fixed windows, so a
  // run that straddles a window boundary starts over once.
  const LIMIT = 5;
  const windowOf = () => Math.floor(Date.now() / 60_000);

  for (const prefix of ["/webhooks/x", "/aggregator/x"]) {
    it(`429s a client over its limit on ${prefix}, with Retry-After, counting clients apart`, async () => {
      const from = (ip: string) => call("POST", prefix, { headers: { "cf-connecting-ip": ip }, body: "" });
      for (let attempt = 0; ; attempt++) {
        const ip = `203.0.113.${prefix.length * 10 + attempt}`;
        const window = windowOf();
        const statuses = [];
        for (let i = 0; i <= LIMIT; i++) statuses.push((await from(ip)).status);
        if (windowOf() !== window && attempt === 0) continue;
        expect(statuses.slice(0, LIMIT)).not.toContain(429);
        const limited = await from(ip);
        expect(statuses[LIMIT]).toBe(429);
        expect(limited.body.error.code).toBe("rate_limited");
        expect(limited.headers.get("retry-after")).toBe("60");
        expect((await from(`198.51.100.${attempt}`)).status).not.toBe(429);
        // Without CF-Connecting-IP (local tools, tests) nothing is limited.
        for (let i = 0; i <= LIMIT; i++) expect((await call("POST", prefix, { body: "" })).status).not.toBe(429);
        return;
      }
    });
  }

  it("gives each peer naming itself in x-wavs-edge-peer its own bucket on one address, and any other claim one shared bucket", async () => {
    // Nodes share addresses (a devnet's 127.0.0.1, Cloudflare's egress): by address alone they
    // would use up each other's limit.
    const peers = ["https://a.example", "https://b.example", "https://c.example"];
    const app = createApp();
    const peerEnv = { ...env, PEERS: JSON.stringify(peers), NODE_URL: peers[0]! };
    for (let attempt = 0; ; attempt++) {
      const ip = `192.0.2.${attempt}`;
      const from = async (claim?: string) => {
        const headers: Record<string, string> = { "cf-connecting-ip": ip };
        if (claim !== undefined) headers[PEER_HEADER] = claim;
        const req = new Request("http://node/aggregator/x", { method: "POST", headers, body: "" });
        const res = await app.fetch(req, peerEnv, createExecutionContext());
        await res.body?.cancel();
        return res.status;
      };
      const window = windowOf();
      const exhaust = async (claim?: string) => {
        const statuses = [];
        for (let i = 0; i <= LIMIT; i++) statuses.push(await from(claim));
        return statuses;
      };
      const b = await exhaust("https://b.example/");
      const c = await exhaust("HTTPS://C.EXAMPLE");
      const stranger = await exhaust("https://stranger.example");
      const afterStranger = [await from(), await from(""), await from("https://another.example")];
      if (windowOf() !== window && attempt === 0) continue;
      // Each claimed peer had a full limit of its own, the second one unaffected by the first.
      expect(b.slice(0, LIMIT)).not.toContain(429);
      expect(b[LIMIT]).toBe(429);
      expect(c.slice(0, LIMIT)).not.toContain(429);
      expect(c[LIMIT]).toBe(429);
      expect(stranger.slice(0, LIMIT)).not.toContain(429);
      expect(stranger[LIMIT]).toBe(429);
      // A non-peer claim, an empty one and none at all all fall into the one "other" bucket.
      expect(afterStranger).toEqual([429, 429, 429]);
      // A peer not yet heard from on this address still has its whole limit.
      expect(await from(peers[0])).not.toBe(429);
      return;
    }
  });
});
