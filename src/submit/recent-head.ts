import { publicClientFor } from "../chain/rpc";
import type { ChainSettings } from "../config";
import { awaitShared, SHARED_READ_PATIENCE_MS } from "../util/await-shared";

/**
 * How old a head from recentHead may be. For reads that only need a past block (a standing, the
 * quorum preflight's reference block, the bounds of a landing search whose trace_filter itself
 * runs to the newest block), never as the newest block itself.
 */
export const HEAD_MAX_AGE_MS = 1_000;
const heads = new Map<string, { at: number; block: Promise<bigint> }>();

/**
 * The chain's block number as read at most HEAD_MAX_AGE_MS ago in this isolate (one read in flight
 * per chain, waited for at most SHARED_READ_PATIENCE_MS: await-shared.ts; a failed read is not kept).
 * @throws on RPC failure
 */
export function recentHead(chain: ChainSettings): Promise<bigint> {
  const hit = heads.get(chain.key);
  if (hit && Date.now() - hit.at < HEAD_MAX_AGE_MS)
    return awaitShared(hit.block, SHARED_READ_PATIENCE_MS, () => readHead(chain));
  return readHead(chain);
}

function readHead(chain: ChainSettings): Promise<bigint> {
  const block = publicClientFor(chain).getBlockNumber();
  const entry = { at: Date.now(), block };
  heads.set(chain.key, entry);
  block.catch(() => heads.get(chain.key) === entry && heads.delete(chain.key));
  return block;
}
