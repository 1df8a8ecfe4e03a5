import { publicClientFor } from "../chain/rpc";
import type { ChainSettings } from "../config";

/**
 * How old a head from recentHead may be. For reads that only need a past block (a standing, the
 * quorum preflight's reference block, the bounds of a landing search whose trace_filter itself
 * runs to the newest block), never as the newest block itself.
 */
export const HEAD_MAX_AGE_MS = 1_000;
const heads = new Map<string, { at: number; block: Promise<bigint> }>();

/**
 * The chain's block number as read at most HEAD_MAX_AGE_MS ago in this isolate (one read in flight
 * per chain; a failed read is not kept).
 * @throws on RPC failure
 */
export function recentHead(chain: ChainSettings): Promise<bigint> {
  const hit = heads.get(chain.key);
  if (hit && Date.now() - hit.at < HEAD_MAX_AGE_MS) return hit.block;
  const block = publicClientFor(chain).getBlockNumber();
  heads.set(chain.key, { at: Date.now(), block });
  block.catch(() => heads.delete(chain.key));
  return block;
}
