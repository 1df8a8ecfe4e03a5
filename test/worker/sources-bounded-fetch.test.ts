/**
 * What a service names is fetched bounded in time and size, from allowed addresses only, and a
 * refused source registers nothing. The servers come from source-servers.global.ts.
 */
import { env, SELF } from "cloudflare:test";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { registerSavedService } from "../../src/service/register-service";
import { fetchBounded } from "../../src/service/sources/bounded-fetch";
import { fetchServiceJson } from "../../src/service/sources/service-uri";
import { emptyNodeStorage } from "./empty-node";

// Fixed ids and digests, or counts over the whole node: start from an empty D1 and R2 (empty-node.ts).
beforeAll(emptyNodeStorage);

const base = inject("sourceServerUrl");
const json = { authorization: "Bearer test-token", "content-type": "application/json" };
const params = { maxBytes: 1000, timeoutMs: 500, code: "thing", what: "the thing", allowPrivate: true };

async function expectServiceError(promise: Promise<unknown>, status: number, code: string, message?: RegExp) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, "expected a ServiceError").toMatchObject({ status, code });
  if (message) expect((error as Error).message).toMatch(message);
}

describe("fetchBounded", () => {
  it("returns the body when it fits", async () => {
    expect(await fetchBounded(`${base}/big/1000`, params)).toHaveLength(1000);
  });

  it("stops reading a body that passes the cap (422 too_large), chunked or declared", async () => {
    await expectServiceError(fetchBounded(`${base}/big/5000000`, params), 422, "thing_too_large", /over 1000 bytes/);
    // A Content-Length over the cap is refused at once, without waiting for a body that never comes.
    const started = Date.now();
    await expectServiceError(
      fetchBounded(`${base}/declared/1000000`, { ...params, timeoutMs: 10_000 }),
      422,
      "thing_too_large",
    );
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("gives up on a server that never answers, or never finishes its body (502 within the deadline)", async () => {
    for (const path of ["/silent", "/stall"]) {
      const started = Date.now();
      await expectServiceError(
        fetchBounded(`${base}${path}`, params),
        502,
        "thing_unreachable",
        /did not answer within 500 ms/,
      );
      expect(Date.now() - started, path).toBeLessThan(5_000);
    }
  });

  it("502s an error status and a closed port", async () => {
    await expectServiceError(fetchBounded(`${base}/status/500`, params), 502, "thing_unreachable", /answered 500/);
    await expectServiceError(fetchBounded("http://127.0.0.1:9/x", params), 502, "thing_unreachable");
  });

  it("checks every redirect hop: a redirect to file: is refused, a redirect loop ends", async () => {
    const to = (target: string) => `${base}/redirect?to=${encodeURIComponent(target)}`;
    expect(await fetchBounded(to(`${base}/big/10`), params)).toHaveLength(10);
    await expectServiceError(
      fetchBounded(to("file:///etc/passwd"), params),
      422,
      "thing_not_allowed",
      /file URLs are not fetched/,
    );
    let loop = `${base}/big/10`;
    for (let i = 0; i < 7; i++) loop = to(loop);
    await expectServiceError(fetchBounded(loop, params), 502, "thing_unreachable", /redirected more than 5 times/);
  });

  it("refuses private addresses unless allowed", async () => {
    await expectServiceError(
      fetchBounded(`${base}/big/10`, { ...params, allowPrivate: false }),
      422,
      "thing_not_allowed",
      /loopback.*ALLOW_PRIVATE_NETWORK_URIS/,
    );
  });
});

describe("service URIs", () => {
  it("are bounded and refused on private addresses when the operator has not allowed them", async () => {
    const text = await fetchServiceJson(env, `${base}/json?body=${encodeURIComponent('{"a":1}')}`);
    expect(text).toBe('{"a":1}');
    await expectServiceError(fetchServiceJson(env, `${base}/big/2000000`), 422, "service_uri_too_large");
    await expectServiceError(
      fetchServiceJson({ ...env, ALLOW_PRIVATE_NETWORK_URIS: "false" }, `${base}/json`),
      422,
      "service_uri_not_allowed",
    );
    await expectServiceError(fetchServiceJson(env, "file:///etc/passwd"), 422, "unsupported_uri");
  });
});

describe("component downloads at registration", () => {
  const component = (uri: string, digest: string) => ({
    source: { download: { uri, digest } },
    permissions: { allowed_http_hosts: "none", file_system: false, raw_sockets: false, dns_resolution: false },
    fuel_limit: null,
    time_limit_seconds: null,
    config: {},
    env_keys: [],
  });
  const serviceWith = (uri: string, digest: string, address: string) =>
    JSON.stringify({
      name: "downloads",
      workflows: { manual: { trigger: "manual", component: component(uri, digest), submit: "none" } },
      status: "active",
      manager: { evm: { chain: "evm:31337", address: `0x${address.repeat(20)}` } },
    });
  const save = (text: string) => SELF.fetch("http://node/dev/services", { method: "POST", headers: json, body: text });
  const services = async () =>
    ((await (await SELF.fetch("http://node/services")).json()) as { service_ids: string[] }).service_ids;

  it("POST /dev/services refuses file: and other schemes", async () => {
    for (const uri of ["file:///etc/passwd", "ftp://example.com/a.wasm"]) {
      const res = await save(serviceWith(uri, "ab".repeat(32), "71"));
      expect(res.status, uri).toBe(422);
      expect(((await res.json()) as { error: { code: string; message: string } }).error).toMatchObject({
        code: "component_not_allowed",
        message: expect.stringMatching(/^workflow manual: .*http or https only/),
      });
    }
  });

  it("a digest mismatch names the declared digest only, never the hash of what arrived; nothing is registered", async () => {
    const declared = "cd".repeat(32);
    const saved = (await (await save(serviceWith(`${base}/file/trap.wasm`, declared, "72"))).json()) as {
      hash: string;
    };
    // registerSavedService is what POST /dev/services/{hash} runs once it has read the chain's head
    const error = await registerSavedService(env, saved.hash).then(
      () => undefined,
      (e: unknown) => e as { code: string; message: string },
    );
    expect(error).toMatchObject({ status: 422, code: "digest_mismatch" });
    expect(error!.message).toContain(declared);
    expect(error!.message.match(/[0-9a-f]{64}/g)).toEqual([declared]);
    expect(await services()).toEqual([]);
  });

  it("a component too large or on a refused address registers nothing", async () => {
    const big = (await (await save(serviceWith(`${base}/big/20000000`, "ab".repeat(32), "73"))).json()) as {
      hash: string;
    };
    await expectServiceError(registerSavedService(env, big.hash), 422, "component_too_large");

    const local = (await (await save(serviceWith(`${base}/file/trap.wasm`, "ab".repeat(32), "74"))).json()) as {
      hash: string;
    };
    await expectServiceError(
      registerSavedService({ ...env, ALLOW_PRIVATE_NETWORK_URIS: "false" }, local.hash),
      422,
      "component_not_allowed",
      /loopback/,
    );
    expect(await services()).toEqual([]);
  });
});
