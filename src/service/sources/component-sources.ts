/**
 * Gets a service's components into R2 from wherever their source says: already uploaded
 * (`{digest}`), a download (`http(s)://` or `ipfs://`), or a wasm registry (registry-source.ts).
 * Whatever arrives must hash to the declared digest before it is stored.
 */
import { sha256 } from "viem";
import { ServiceError } from "../service-error";
import { componentExists, MAX_COMPONENT_BYTES, storeComponent } from "../../execute/component-store";
import { sourceDigest } from "../service-json";
import type { Component, ComponentSource, Service } from "../types";
import { fetchBounded } from "./bounded-fetch";
import { fetchIpfsFile, parseIpfsUri } from "./ipfs-source";
import { refuseOutboundUrl } from "./network-policy";
import { fetchRegistryComponent } from "./registry-source";
import { sourceSettings, type SourceSettings } from "./source-settings";

/** Deadline for one component download over http(s). */
export const COMPONENT_DOWNLOAD_TIMEOUT_MS = 30_000;

/**
 * Refuses sources the node would never fetch (a `file:` or other scheme, a malformed ipfs URI, a
 * private address when not allowed), so such a service is not even saved.
 * @throws ServiceError 422 `component_not_allowed` / `invalid_ipfs_uri` naming the workflow
 */
export function refuseUnfetchableSources(service: Service, settings: Pick<SourceSettings, "allowPrivate">): void {
  for (const [id, workflow] of Object.entries(service.workflows)) {
    const components =
      workflow.submit === "none" ? [workflow.component] : [workflow.component, workflow.submit.aggregator.component];
    for (const { source } of components) {
      if (!("download" in source)) continue;
      const uri = source.download.uri;
      if (parseIpfsUri(uri)) continue;
      let url: URL | undefined;
      try {
        url = new URL(uri);
      } catch {}
      const refused = url ? refuseOutboundUrl(url, settings.allowPrivate) : "not a URL";
      if (refused) {
        throw new ServiceError(
          422,
          "component_not_allowed",
          `workflow ${id}: the component's download URI is refused: ${refused}`,
        );
      }
    }
  }
}

/**
 * Stores the component unless it is already stored. Operator and aggregator components alike
 * (WAVS forgets the latter).
 * @throws ServiceError 422 `component_missing` (a bare digest not uploaded), `digest_mismatch`,
 *   `component_too_large`, `component_not_allowed`, `ipfs_verification_failed`; 502 `component_unreachable`
 */
export async function ensureComponentStored(env: Env, component: Component): Promise<void> {
  const digest = sourceDigest(component.source);
  if (await componentExists(env, digest)) return;
  const bytes = await fetchComponentBytes(env, component.source, digest);
  // The declared digest only: echoing the hash of what arrived would help an attacker probe.
  if (sha256(bytes).slice(2) !== digest) {
    throw new ServiceError(422, "digest_mismatch", `the bytes fetched for component ${digest} do not match its digest`);
  }
  await storeComponent(env, bytes);
}

async function fetchComponentBytes(env: Env, source: ComponentSource, digest: string): Promise<Uint8Array> {
  const settings = sourceSettings(env);
  const what = `component ${digest}`;
  if ("download" in source) {
    const ipfs = parseIpfsUri(source.download.uri);
    if (ipfs)
      return fetchIpfsFile(ipfs, {
        gateway: settings.ipfsGateway,
        maxBytes: MAX_COMPONENT_BYTES,
        code: "component",
        what,
      });
    return fetchBounded(source.download.uri, {
      maxBytes: MAX_COMPONENT_BYTES,
      timeoutMs: COMPONENT_DOWNLOAD_TIMEOUT_MS,
      code: "component",
      what,
      allowPrivate: settings.allowPrivate,
    });
  }
  if ("registry" in source) {
    return fetchRegistryComponent(source.registry, {
      allowPrivate: settings.allowPrivate,
      httpHosts: settings.registryHttpHosts,
      maxBytes: MAX_COMPONENT_BYTES,
    });
  }
  throw new ServiceError(422, "component_missing", `component ${digest} is not uploaded to this node`);
}
