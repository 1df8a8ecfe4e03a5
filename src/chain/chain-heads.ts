import { publicClientFor } from "./rpc";
import { nodeChains, type ChainSettings } from "../config";
import { describeError } from "../log";

/** A dead RPC must not stall a page or a scrape: a head not known by then counts as down. */
const HEAD_TIMEOUT_MS = 3_000;
/**
 * A head (or a failure to read one) is reused this long, so `/health`, `/metrics` and `/` cost each
 * chain at most one read per period and isolate however often strangers ask.
 */
export const HEAD_REUSE_MS = 5_000;

/** What one read of a chain's head gave, and when. */
export type HeadReading = { head: bigint; at: number } | { error: string; at: number };

/** Per isolate, keyed by chain and endpoints (a chain re-added with other RPCs starts afresh). */
const readings = new Map<string, HeadReading>();
const readingKey = (chain: ChainSettings) => `${chain.key} ${chain.rpc_urls.join(" ")}`;

/** Records a head read elsewhere (the poller reads one every run), for the routes to reuse. */
export function rememberHead(chain: ChainSettings, head: bigint): void {
  readings.set(readingKey(chain), { head, at: Date.now() });
}

/** The chain's head, reused when read in the last HEAD_REUSE_MS, else read now (bounded by HEAD_TIMEOUT_MS). */
export async function readChainHead(chain: ChainSettings): Promise<HeadReading> {
  const known = readings.get(readingKey(chain));
  if (known && Date.now() - known.at < HEAD_REUSE_MS) return known;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const reading: HeadReading = await Promise.race([
    publicClientFor(chain)
      .getBlockNumber()
      .then((head) => ({ head, at: Date.now() }))
      .catch((e: unknown) => ({ error: describeError(e), at: Date.now() })),
    new Promise<HeadReading>((r) => {
      timer = setTimeout(
        () => r({ error: `the RPC did not answer within ${HEAD_TIMEOUT_MS / 1000} s`, at: Date.now() }),
        HEAD_TIMEOUT_MS,
      );
    }),
  ]).finally(() => timer !== undefined && clearTimeout(timer));
  readings.set(readingKey(chain), reading);
  return reading;
}

/** Each configured chain's head block, or null when its RPC did not answer in time. */
export async function readChainHeads(env: Env): Promise<{ chain: string; head: bigint | null }[]> {
  return Promise.all(
    (await nodeChains(env)).map(async (chain) => {
      const reading = await readChainHead(chain);
      return { chain: chain.key, head: "head" in reading ? reading.head : null };
    }),
  );
}
