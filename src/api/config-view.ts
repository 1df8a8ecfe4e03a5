import type { ChainSettings } from "../config";

/** Names of every secret the node may hold; their values never leave the node. */
export const SECRET_NAMES = [
  "WAVS_SIGNING_MNEMONIC",
  "WAVS_AGGREGATOR_EVM_CREDENTIAL",
  "WAVS_BEARER_TOKEN",
  "WAVS_BUILDER_TOKEN",
] as const;

/**
 * An RPC URL with anything that may be a credential replaced: user info, the path (providers put
 * API keys there) and the query. Keeps scheme, host and port so the operator can tell chains apart.
 */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    const hidden = url.username || url.password || url.pathname.length > 1 || url.search;
    return `${url.protocol}//${url.host}${hidden ? "/<redacted>" : ""}`;
  } catch {
    return "<redacted>";
  }
}

export type ConfigView = {
  chains: (Omit<ChainSettings, "rpc_url" | "ws_endpoints"> & { rpc_url: string; ws_endpoints?: string[] })[];
  secrets: Record<string, "set" | "unset">;
  component_env_keys: string[];
  webhook_secrets: string[];
  cors_origins: string[];
  limits: Record<string, unknown>;
};

/**
 * The node's configuration for `GET /config`: everything an operator checks, every secret reduced
 * to whether it is set. Pure: takes the parsed parts and the env's key names, never a secret value.
 */
export function describeConfig(p: {
  chains: ChainSettings[];
  envKeys: string[];
  isSet: (name: string) => boolean;
  corsOrigins: string[];
  limits: Record<string, unknown>;
}): ConfigView {
  return {
    chains: p.chains.map((c) => ({
      ...c,
      rpc_url: redactUrl(c.rpc_url),
      rpc_urls: c.rpc_urls.map(redactUrl),
      ...(c.ws_endpoints ? { ws_endpoints: c.ws_endpoints.map(redactUrl) } : {}),
    })),
    secrets: Object.fromEntries(SECRET_NAMES.map((n) => [n, p.isSet(n) ? "set" : "unset"])),
    // Component secrets: names only, as a service's env_keys would list them.
    component_env_keys: p.envKeys.filter((k) => k.startsWith("WAVS_ENV_")).sort(),
    // Which webhook sources can deliver (one secret each): names only.
    webhook_secrets: p.envKeys.filter((k) => k.startsWith("WEBHOOK_SECRET_")).sort(),
    cors_origins: p.corsOrigins,
    limits: p.limits,
  };
}
