/**
 * Operator settings for fetching what services name, parsed from the vars once per call site
 * (they are two strings; nothing to cache).
 */
import { allowsPrivateNetwork } from "./network-policy";
import { DEFAULT_IPFS_GATEWAY } from "./ipfs-source";

export type SourceSettings = {
  /** ALLOW_PRIVATE_NETWORK_URIS: may service URIs, downloads and chain RPCs be private addresses? */
  allowPrivate: boolean;
  /** IPFS_GATEWAY: base URL of a trustless gateway. */
  ipfsGateway: string;
  /** WASM_REGISTRY_HTTP_HOSTS: registry hosts spoken to over plain http instead of https. */
  registryHttpHosts: string[];
};

/** The settings in `env`; IPFS_GATEWAY unset or empty means the default trustless gateway. */
export function sourceSettings(
  env: Pick<Env, "ALLOW_PRIVATE_NETWORK_URIS" | "IPFS_GATEWAY" | "WASM_REGISTRY_HTTP_HOSTS">,
): SourceSettings {
  return {
    allowPrivate: allowsPrivateNetwork(env),
    ipfsGateway: env.IPFS_GATEWAY?.trim() || DEFAULT_IPFS_GATEWAY,
    registryHttpHosts: (env.WASM_REGISTRY_HTTP_HOSTS ?? "")
      .split(",")
      .map((h) => h.trim())
      .filter(Boolean),
  };
}
