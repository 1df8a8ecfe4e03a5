/**
 * ipfs:// service URIs and component downloads: fetched as CARs from a trustless gateway (a local
 * one serving real CARs, source-servers.global.ts) and verified block by block against the CID.
 */
import { env, SELF } from "cloudflare:test";
import { sha256 } from "viem";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { componentExists } from "../../src/execute/component-store";
import { registerSavedService } from "../../src/service/register-service";
import { fetchIpfsFile, parseIpfsUri } from "../../src/service/sources/ipfs-source";
import { fetchServiceJson } from "../../src/service/sources/service-uri";
import { builtComponent } from "./component-fixtures";
import { emptyNodeStorage } from "./empty-node";

// Fixed ids and digests, or counts over the whole node: start from an empty D1 and R2 (empty-node.ts).
beforeAll(emptyNodeStorage);

const gateway = inject("ipfsGatewayUrl");
const ipfsEnv = { ...env, IPFS_GATEWAY: gateway };
const json = { authorization: "Bearer test-token", "content-type": "application/json" };
const params = { gateway, maxBytes: 15 * 1024 * 1024, code: "component", what: "the file" };

/** Adds bytes to the test gateway; returns their ipfs:// URI. */
async function add(bytes: Uint8Array, query: Record<string, string> = {}): Promise<string> {
  const res = await fetch(`${gateway}/add?${new URLSearchParams(query)}`, { method: "POST", body: bytes });
  if (!res.ok) throw new Error(await res.text());
  return ((await res.json()) as { uri: string }).uri;
}

async function failure(promise: Promise<unknown>) {
  return promise.then(
    () => undefined,
    (e: unknown) => e as { status: number; code: string; message: string },
  );
}

describe("fetchIpfsFile", () => {
  const square = builtComponent("square"); // 1.6 MB: 26 leaf blocks of 64 KiB under dag-pb parents

  it("rebuilds a many-block file from a verified CAR: CIDv1 raw leaves, CIDv0, and a path inside a directory", async () => {
    const queries: Record<string, string>[] = [{}, { cidVersion: "0" }, { name: "square.wasm" }];
    for (const query of queries) {
      const uri = await add(square, query);
      if (query.cidVersion === "0") expect(uri).toMatch(/^ipfs:\/\/Qm/);
      const bytes = await fetchIpfsFile(parseIpfsUri(uri)!, params);
      expect(sha256(bytes), uri).toBe(sha256(square));
    }
  });

  it("refuses a CAR in which one block was altered, naming the block", async () => {
    const uri = await add(square, { tamper: "1" });
    const error = await failure(fetchIpfsFile(parseIpfsUri(uri)!, params));
    expect(error).toMatchObject({ status: 422, code: "ipfs_verification_failed" });
    expect(error!.message).toMatch(/^block \S+ does not match its CID$/);
  });

  it("is bounded: a file over the cap is refused, a missing CID is a 502", async () => {
    const uri = await add(square);
    expect(await failure(fetchIpfsFile(parseIpfsUri(uri)!, { ...params, maxBytes: 100_000 }))).toMatchObject({
      status: 422,
      code: "component_too_large",
    });
    const missing = "ipfs://bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy";
    expect(await failure(fetchIpfsFile(parseIpfsUri(missing)!, params))).toMatchObject({
      status: 502,
      code: "component_unreachable",
    });
  });

  it("parses ipfs URIs strictly", () => {
    expect(parseIpfsUri("https://example.com/a")).toBeUndefined();
    expect(parseIpfsUri("ipfs://QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG/a/b.wasm")).toMatchObject({
      path: "/a/b.wasm",
    });
    for (const bad of [
      "ipfs://not-a-cid",
      "ipfs://",
      "ipfs://QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG/../x",
      "ipfs:QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG",
    ]) {
      expect(() => parseIpfsUri(bad), bad).toThrow(/CID|ipfs:\/\/CID|\.\./);
    }
  });
});

describe("ipfs:// sources at registration", () => {
  const component = (uri: string, digest: string) => ({
    source: { download: { uri, digest } },
    permissions: { allowed_http_hosts: "none", file_system: false, raw_sockets: false, dns_resolution: false },
    fuel_limit: null,
    time_limit_seconds: null,
    config: {},
    env_keys: [],
  });
  const serviceText = (uri: string, digest: string, address: string) =>
    JSON.stringify({
      name: "from ipfs",
      workflows: { manual: { trigger: "manual", component: component(uri, digest), submit: "none" } },
      status: "active",
      manager: { evm: { chain: "evm:31337", address: `0x${address.repeat(20)}` } },
    });
  const save = async (text: string) =>
    (
      (await (await SELF.fetch("http://node/dev/services", { method: "POST", headers: json, body: text })).json()) as {
        hash: string;
      }
    ).hash;

  it("stores a component whose download URI is ipfs:// once its CID and its digest both check out", async () => {
    const trap = builtComponent("trap");
    const digest = sha256(trap).slice(2);
    const uri = await add(trap, { name: "trap.wasm" });
    expect(await componentExists(env, digest)).toBe(false);
    await registerSavedService(ipfsEnv, await save(serviceText(uri, digest, "81")));
    expect(await componentExists(env, digest)).toBe(true);
  });

  it("registers nothing and stores nothing when the gateway tampers with a block", async () => {
    const echo = builtComponent("trigger-echo");
    const digest = sha256(echo).slice(2);
    const uri = await add(echo, { tamper: "1" });
    const error = await failure(registerSavedService(ipfsEnv, await save(serviceText(uri, digest, "82"))));
    expect(error).toMatchObject({ status: 422, code: "ipfs_verification_failed" });
    expect(await componentExists(env, digest)).toBe(false);
    const services = (await (await SELF.fetch("http://node/services")).json()) as { service_ids: string[] };
    expect(services.service_ids).toHaveLength(1); // the one registered above
  });

  it("reads service JSON from an ipfs:// service URI", async () => {
    const text = serviceText("ipfs://QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG", "ab".repeat(32), "83");
    const uri = await add(new TextEncoder().encode(text), { name: "service.json" });
    expect(await fetchServiceJson(ipfsEnv, uri)).toBe(text);
    const tampered = await add(new TextEncoder().encode(text), { tamper: "1" });
    expect(await failure(fetchServiceJson(ipfsEnv, tampered))).toMatchObject({
      status: 422,
      code: "ipfs_verification_failed",
    });
  });
});
