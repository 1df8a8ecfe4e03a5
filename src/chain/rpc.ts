import { createPublicClient, createWalletClient, http, type LocalAccount } from "viem";
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
    rpcUrls: { default: { http: [settings.rpc_url] } },
  } as const;
}

export function publicClientFor(settings: ChainSettings) {
  return createPublicClient({ chain: chainFor(settings), transport: http(settings.rpc_url, { retryCount: 2 }) });
}

export function walletClientFor(settings: ChainSettings, account: LocalAccount) {
  return createWalletClient({ account, chain: chainFor(settings), transport: http(settings.rpc_url, { retryCount: 2 }) });
}
