import { createPublicClient, fallback, http } from "viem";
import type { ChainSettings } from "../config";

/** Strips credentials and API keys from an RPC URL before it reaches a message or a log. */
export function redactRpcUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname.length > 1 ? "/…" : ""}`;
  } catch {
    return "<invalid url>";
  }
}

function chainFor(settings: ChainSettings) {
  const id = Number(settings.chain_id);
  return {
    id,
    name: settings.key,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: rpcUrlsOf(settings) } },
  } as const;
}

function rpcUrlsOf(settings: ChainSettings): string[] {
  return settings.rpc_urls?.length ? settings.rpc_urls : [settings.rpc_url];
}

/**
 * One HTTP transport, or a failover over several: viem's fallback moves to the next endpoint when
 * one fails with a transport error (a JSON-RPC error from a healthy endpoint is not retried elsewhere).
 */
function transportFor(settings: ChainSettings) {
  const urls = rpcUrlsOf(settings);
  if (urls.length === 1) return http(urls[0], { retryCount: 2 });
  return fallback(urls.map((url) => http(url, { retryCount: 1 })));
}

export function publicClientFor(settings: ChainSettings) {
  return createPublicClient({ chain: chainFor(settings), transport: transportFor(settings) });
}
