import { z } from "zod";
import type { EvmChainConfig } from "./service/types";

const chainSchema = z.strictObject({
  key: z.string().regex(/^evm:\d+$/, 'chain keys look like "evm:31337"'),
  chain_id: z.union([z.string(), z.number()]).transform(String),
  rpc_url: z.string().url(),
  ws_endpoints: z.array(z.string()).optional(),
  /** Blocks a log must be buried under before the poller hands it on. */
  confirmations: z.number().int().min(0).default(0),
  /** Most blocks read by one eth_getLogs call. */
  poll_range: z.number().int().min(1).default(500),
});

export type ChainSettings = EvmChainConfig & { poll_range: number };

/**
 * The chains in the CHAINS variable (a JSON list). Parsed once per isolate.
 * @throws Error naming the bad entry; the RPC URL is never echoed (it may hold a key)
 */
export function parseChains(raw: string | undefined): ChainSettings[] {
  let value: unknown;
  try {
    value = JSON.parse(raw?.trim() || "[]");
  } catch {
    throw new Error("CHAINS is not valid JSON");
  }
  const result = z.array(chainSchema).safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new Error(`CHAINS[${issue.path.join(".")}]: ${issue.message.replace(/https?:\/\/\S+/g, "<url>")}`);
  }
  return result.data;
}

let cached: { raw: string | undefined; chains: ChainSettings[] } | undefined;

/** The node's chains, parsed once per isolate. */
export function nodeChains(env: Env): ChainSettings[] {
  if (cached?.raw !== env.CHAINS) cached = { raw: env.CHAINS, chains: parseChains(env.CHAINS) };
  return cached.chains;
}

/** @throws Error when the node does not know the chain */
export function chainByKey(env: Env, key: string): ChainSettings {
  const chain = nodeChains(env).find((c) => c.key === key);
  if (!chain) throw new Error(`chain ${key} is not configured on this node`);
  return chain;
}
