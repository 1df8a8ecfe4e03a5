/**
 * Registry component sources, resolved as wkg does, against a real OCI registry (docker-registry,
 * source-servers.global.ts) to which the test pushes components over the distribution API.
 */
import { env, SELF } from "cloudflare:test";
import { sha256 } from "viem";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { componentExists } from "../../src/execute/component-store";
import { registerSavedService } from "../../src/service/register-service";
import { parseBearerChallenge, resolveOciLocation } from "../../src/service/sources/registry-source";
import { pushWasmComponent } from "../support/oci-push";
import { builtComponent } from "./component-fixtures";
import { emptyNodeStorage } from "./empty-node";

// Fixed ids and digests, or counts over the whole node: start from an empty D1 and R2 (empty-node.ts).
beforeAll(emptyNodeStorage);

const registryHost = inject("ociRegistryHost");
const domain = new URL(inject("sourceServerUrl")).host; // serves /.well-known/wasm-pkg/registry.json
const registryEnv = { ...env, WASM_REGISTRY_HTTP_HOSTS: `${domain},${registryHost}` };
const json = { authorization: "Bearer test-token", "content-type": "application/json" };

async function failure(promise: Promise<unknown>) {
  return promise.then(
    () => undefined,
    (e: unknown) => e as { status: number; code: string; message: string },
  );
}

describe("resolveOciLocation (wkg's mapping from package to OCI image)", () => {
  it("uses the oci backend's registry and namespace prefix, the version as tag, latest without one", () => {
    const meta = { preferredProtocol: "oci", oci: { registry: "ghcr.io", namespacePrefix: "bytecodealliance/" } };
    expect(resolveOciLocation("wa.dev", meta, "wavs:square", "0.2.0")).toEqual({
      registry: "ghcr.io",
      repository: "bytecodealliance/wavs/square",
      tag: "0.2.0",
    });
    expect(resolveOciLocation("wa.dev", meta, "wavs:square", null).tag).toBe("latest");
    // the older flat fields, and the domain itself when no registry is named
    expect(resolveOciLocation("example.com", { ociNamespacePrefix: "p/" }, "a:b", "1.0.0")).toEqual({
      registry: "example.com",
      repository: "p/a/b",
      tag: "1.0.0",
    });
  });

  it("refuses a warg-only registry, a bad package name and a registry that is not a host", () => {
    expect(() =>
      resolveOciLocation("wa.dev", { preferredProtocol: "warg", warg: { url: "https://warg.wa.dev" } }, "a:b", null),
    ).toThrow(/other than OCI/);
    expect(() => resolveOciLocation("x.dev", { oci: {} }, "NotAPackage", null)).toThrow(/namespace:name/);
    expect(() => resolveOciLocation("x.dev", { oci: { registry: "https://evil/x" } }, "a:b", null)).toThrow(
      /not a host/,
    );
  });

  it("reads the distribution token challenge", () => {
    expect(
      parseBearerChallenge('Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:a/b:pull"'),
    ).toEqual({
      realm: "https://ghcr.io/token",
      service: "ghcr.io",
      scope: "repository:a/b:pull",
    });
    expect(parseBearerChallenge('Basic realm="x"')).toBeUndefined();
  });
});

describe("registry sources at registration", () => {
  const serviceText = (source: Record<string, unknown>, address: string) =>
    JSON.stringify({
      name: "from a registry",
      workflows: {
        manual: {
          trigger: "manual",
          component: {
            source: { registry: source },
            permissions: { allowed_http_hosts: "none", file_system: false, raw_sockets: false, dns_resolution: false },
            fuel_limit: null,
            time_limit_seconds: null,
            config: {},
            env_keys: [],
          },
          submit: "none",
        },
      },
      status: "active",
      manager: { evm: { chain: "evm:31337", address: `0x${address.repeat(20)}` } },
    });
  const save = async (text: string) =>
    (
      (await (await SELF.fetch("http://node/dev/services", { method: "POST", headers: json, body: text })).json()) as {
        hash: string;
      }
    ).hash;
  const services = async () =>
    ((await (await SELF.fetch("http://node/services")).json()) as { service_ids: string[] }).service_ids;

  it("fetches the package's wasm layer from the domain's OCI registry and stores it", async () => {
    const trap = builtComponent("trap");
    const digest = sha256(trap).slice(2);
    await pushWasmComponent(registryHost, "wavs-edge-test/wavs/trap", "0.1.0", trap);
    expect(await componentExists(env, digest)).toBe(false);
    await registerSavedService(
      registryEnv,
      await save(serviceText({ digest, domain, version: "0.1.0", package: "wavs:trap" }, "91")),
    );
    expect(await componentExists(env, digest)).toBe(true);
    expect(await services()).toHaveLength(1);
  });

  it("refuses a wrong digest before downloading, and registers and stores nothing", async () => {
    const echo = builtComponent("trigger-echo");
    await pushWasmComponent(registryHost, "wavs-edge-test/wavs/echo", "1.0.0", echo);
    const declared = sha256(builtComponent("counter")).slice(2);
    const error = await failure(
      registerSavedService(
        registryEnv,
        await save(serviceText({ digest: declared, domain, version: "1.0.0", package: "wavs:echo" }, "92")),
      ),
    );
    expect(error).toMatchObject({ status: 422, code: "digest_mismatch" });
    expect(error!.message.match(/[0-9a-f]{64}/g)).toEqual([declared]); // never the digest of what the registry holds
    expect(await componentExists(env, sha256(echo).slice(2))).toBe(false);
    expect(await componentExists(env, declared)).toBe(false);
    expect(await services()).toHaveLength(1);
  });

  it("502s a version the registry does not have; 422s a private registry when not allowed", async () => {
    const digest = "ef".repeat(32); // not stored, so the node must ask the registry
    const missing = await failure(
      registerSavedService(
        registryEnv,
        await save(serviceText({ digest, domain, version: "9.9.9", package: "wavs:trap" }, "93")),
      ),
    );
    expect(missing).toMatchObject({ status: 502, code: "registry_unreachable" });
    const strict = { ...registryEnv, ALLOW_PRIVATE_NETWORK_URIS: "false" };
    const privateDomain = await failure(
      registerSavedService(
        strict,
        await save(serviceText({ digest: "ab".repeat(32), domain, version: "0.1.0", package: "wavs:trap" }, "94")),
      ),
    );
    expect(privateDomain).toMatchObject({ status: 422, code: "registry_not_allowed" });
  });
});
