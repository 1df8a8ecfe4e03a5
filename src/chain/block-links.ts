import type { Hex } from "viem";

/** What the block cache must know of a block to check that a run of blocks is one chain. */
export interface BlockLink {
  number: bigint;
  hash: Hex;
  parentHash: Hex;
}

/** Which blocks to read (and which of them to drop from the cache first) before [lowest, head] is trusted. */
export interface BlockReadPlan {
  /** Blocks missing from the cache, or cached but not the head's ancestor: read them (by number). */
  read: bigint[];
  /** Cached blocks whose hash is not what their child's parentHash says (a reorg): forget them. */
  drop: bigint[];
}

/**
 * Walks parent links down from a freshly read `head` over the cached blocks in [lowest, head):
 * a cached block is trusted only while every block above it, up to the head, is cached and links
 * to it. The first cached block that does not link is dropped and read again; a missing block is
 * read; the cached blocks below a missing or dropped one are kept until the next plan (after the
 * reads) can check them. An empty plan means every block in [lowest, head] is the head's ancestor.
 * Pure: the caller reads, stores and plans again.
 */
export function planBlockReads(cached: ReadonlyMap<bigint, BlockLink>, head: BlockLink, lowest: bigint): BlockReadPlan {
  const read: bigint[] = [];
  const drop: bigint[] = [];
  let expected: Hex | undefined = head.parentHash.toLowerCase() as Hex;
  for (let n = head.number - 1n; n >= lowest; n--) {
    const block = cached.get(n);
    if (!block) {
      read.push(n);
      expected = undefined;
      continue;
    }
    if (expected === undefined) continue; // checked once the block above it is read
    if (block.hash.toLowerCase() === expected) {
      expected = block.parentHash.toLowerCase() as Hex;
      continue;
    }
    drop.push(n);
    read.push(n);
    expected = undefined;
  }
  return { read, drop };
}
