import { eq } from "drizzle-orm";
import { z } from "zod";
import { openDb } from "./db/client";
import { chains as chainsTable } from "./db/schema";
import type { EvmChainConfig } from "./service/types";
import { createReadCache } from "./util/read-cache";

const chainKey = z.string().regex(/^evm:\d+$/, 'chain keys look like "evm:31337"');
const httpUrl = z
  .string()
  .url()
  .regex(/^https?:\/\//, "must be an http(s) URL");
/** Blocks a log must be buried under before the node hands it on. */
const confirmations = z.number().int().min(0).max(10_000);
/** Most blocks read by one eth_getLogs call (halved on a provider's range or size error). */
const pollRange = z.number().int().min(1).max(100_000);

const chainSchema = z
  .strictObject({
    key: chainKey,
    chain_id: z.union([z.string(), z.number()]).transform(String),
    rpc_url: httpUrl.optional(),
    /** Failover list, tried in order. */
    rpc_urls: z.array(httpUrl).min(1).optional(),
    ws_endpoints: z.array(z.string()).optional(),
    confirmations: confirmations.default(0),
    poll_range: pollRange.default(500),
  })
  .refine((c) => c.rpc_url || c.rpc_urls, { message: "needs rpc_url or rpc_urls" })
  .refine((c) => c.key === `evm:${c.chain_id}`, { message: "key must be evm:<chain_id>" });

export type ChainSettings = EvmChainConfig & {
  /** Every RPC endpoint, in failover order; `rpc_url` is the first. */
  rpc_urls: string[];
  poll_range: number;
};

type ParsedChain = z.output<typeof chainSchema>;

function toSettings(c: ParsedChain): ChainSettings {
  const rpcUrls = [...new Set([...(c.rpc_url ? [c.rpc_url] : []), ...(c.rpc_urls ?? [])])];
  return {
    key: c.key,
    chain_id: c.chain_id,
    rpc_url: rpcUrls[0]!,
    rpc_urls: rpcUrls,
    ...(c.ws_endpoints ? { ws_endpoints: c.ws_endpoints } : {}),
    confirmations: c.confirmations,
    poll_range: c.poll_range,
  };
}

/** Zod issues as one line; URLs are never echoed (they may hold an API key). */
function describeIssue(prefix: string, issue: z.core.$ZodIssue): string {
  return `${prefix}[${issue.path.join(".")}]: ${issue.message.replace(/https?:\/\/\S+/g, "<url>")}`;
}

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
  if (!result.success) throw new Error(describeIssue("CHAINS", result.error.issues[0]!));
  const chains = result.data.map(toSettings);
  const keys = chains.map((c) => c.key);
  const dup = keys.find((k, i) => keys.indexOf(k) !== i);
  if (dup) throw new Error(`CHAINS lists ${dup} twice`);
  return chains;
}

/**
 * `POST /dev/chains` in WAVS's AddChainRequest shape: `{chain, config: {evm: {chain_id,
 * http_endpoint, ws_endpoints?, …}}}`, plus our own `http_endpoints` (failover), `confirmations` and
 * `poll_range`. Other WAVS fields (faucet_endpoint, poll_interval_ms, event_channel_size) are accepted
 * and ignored.
 */
export const addChainRequestSchema = z
  .strictObject({
    chain: chainKey,
    config: z.strictObject({
      evm: z.strictObject({
        chain_id: z.union([z.string().regex(/^\d+$/), z.number().int().min(0)]).transform(String),
        http_endpoint: httpUrl.nullish(),
        http_endpoints: z.array(httpUrl).min(1).max(8).optional(),
        ws_endpoint: z.string().nullish(),
        ws_endpoints: z.array(z.string()).optional(),
        faucet_endpoint: z.string().nullish(),
        poll_interval_ms: z.number().int().min(0).nullish(),
        event_channel_size: z.number().int().min(0).optional(),
        confirmations: confirmations.default(0),
        poll_range: pollRange.default(500),
      }),
    }),
  })
  .refine((r) => r.config.evm.http_endpoint || r.config.evm.http_endpoints, {
    message: "an EVM chain needs http_endpoint or http_endpoints (the node polls over HTTP)",
    path: ["config", "evm", "http_endpoint"],
  })
  .refine((r) => r.chain === `evm:${r.config.evm.chain_id}`, {
    message: "chain must be evm:<config.evm.chain_id>",
    path: ["chain"],
  });

/** The ChainSettings an AddChainRequest describes. */
export function chainFromAddRequest(req: z.output<typeof addChainRequestSchema>): ChainSettings {
  const evm = req.config.evm;
  const ws = [...(evm.ws_endpoint ? [evm.ws_endpoint] : []), ...(evm.ws_endpoints ?? [])];
  return toSettings({
    key: req.chain,
    chain_id: evm.chain_id,
    rpc_url: evm.http_endpoint ?? undefined,
    rpc_urls: evm.http_endpoints,
    ...(ws.length > 0 ? { ws_endpoints: ws } : {}),
    confirmations: evm.confirmations,
    poll_range: evm.poll_range,
  });
}

let cached: { raw: string | undefined; chains: ChainSettings[] } | undefined;

/** The chains from the CHAINS var, parsed once per isolate. @throws Error on a bad CHAINS */
export function configuredChains(env: Env): ChainSettings[] {
  if (cached?.raw !== env.CHAINS) cached = { raw: env.CHAINS, chains: parseChains(env.CHAINS) };
  return cached.chains;
}

/**
 * Added chains as last read, per isolate: the devnet's chain is an added one, asked for a dozen
 * times per event (15 D1 reads per event in bench:e2e). Adding or removing a chain here forgets it
 * at once; another isolate sees the change within a second. One read at a time, per isolate (the
 * cache kept per D1 binding still read 3.3 times per event in bench:e2e at 20 events/s).
 */
const addedChainsRead = createReadCache<ChainSettings[]>(1_000);

/** Chains added at run time (D1). A row that no longer parses is skipped rather than fatal. */
export async function addedChains(env: Env): Promise<ChainSettings[]> {
  const chains = await addedChainsRead.read("added", async () => {
    const rows = await openDb(env.DB).select().from(chainsTable);
    return rows.flatMap((row) => {
      const parsed = chainSchema.safeParse(JSON.parse(row.config));
      return parsed.success ? [toSettings(parsed.data)] : [];
    });
  });
  return chains ?? [];
}

/** The node's chains: the CHAINS var plus those added with `POST /dev/chains`. */
export async function nodeChains(env: Env): Promise<ChainSettings[]> {
  const base = configuredChains(env);
  const known = new Set(base.map((c) => c.key));
  return [...base, ...(await addedChains(env)).filter((c) => !known.has(c.key))];
}

/**
 * A chain of the node by key. A chain of the CHAINS var needs no D1 read (it wins over an added one
 * of the same key, as in nodeChains): the aggregate and submit stages ask for their chain several
 * times per event.
 * @throws Error when the node does not know the chain
 */
export async function chainByKey(env: Env, key: string): Promise<ChainSettings> {
  const chain = configuredChains(env).find((c) => c.key === key) ?? (await addedChains(env)).find((c) => c.key === key);
  if (!chain) throw new Error(`chain ${key} is not configured on this node`);
  return chain;
}

/**
 * Persists a chain added at run time.
 * @returns false when the node already has a chain with this key
 */
export async function saveAddedChain(env: Env, chain: ChainSettings): Promise<boolean> {
  if (configuredChains(env).some((c) => c.key === chain.key)) return false;
  const inserted = await openDb(env.DB)
    .insert(chainsTable)
    .values({ key: chain.key, config: JSON.stringify(chain), addedAt: Date.now() })
    .onConflictDoNothing()
    .returning({ key: chainsTable.key });
  addedChainsRead.forget();
  return inserted.length > 0;
}

/**
 * Forgets a chain added at run time; chains from the CHAINS var stay (the operator's config).
 * @returns false when no chain with this key was added at run time
 */
export async function removeAddedChain(env: Env, key: string): Promise<boolean> {
  const deleted = await openDb(env.DB)
    .delete(chainsTable)
    .where(eq(chainsTable.key, key))
    .returning({ key: chainsTable.key });
  addedChainsRead.forget();
  return deleted.length > 0;
}
