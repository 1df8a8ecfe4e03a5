import { BlockNotFoundError, type Hex, type PublicClient } from "viem";
import { createSharedReads, SHARED_READ_PATIENCE_MS } from "../util/await-shared";
import { WavsError } from "../util/errors";
import { type BlockLink, planBlockReads } from "./block-links";
import { type HandlerCall, readHandlerCalls } from "./handler-calls";

/** What the isolate keeps of a block read with its transactions: its links, time and handler calls. */
export interface CachedBlock extends BlockLink {
  timestamp: bigint;
  calls: HandlerCall[];
}

type BlockClient = Pick<PublicClient, "getBlock">;

/** Blocks kept per chain; the least recently stored go first. */
const MAX_BLOCKS_PER_CHAIN = 4096;
/** Blocks read at once when filling a gap (a wide gap must not open hundreds of requests). */
const READ_WINDOW = 8;
/**
 * Read-and-check rounds per search: each round re-reads at least the first block that does not
 * link, so a reorg k deep takes k rounds; a chain still reorganising after this many is searched
 * again on the caller's retry, keeping the blocks read so far.
 */
const MAX_ROUNDS = 16;

const chains = new Map<string, Map<bigint, CachedBlock>>();
const sharedBlockReads = createSharedReads<CachedBlock | undefined>(SHARED_READ_PATIENCE_MS);

function blocksOf(chainKey: string): Map<bigint, CachedBlock> {
  let blocks = chains.get(chainKey);
  if (!blocks) {
    blocks = new Map();
    chains.set(chainKey, blocks);
  }
  return blocks;
}

function store(chainKey: string, block: CachedBlock): void {
  const blocks = blocksOf(chainKey);
  blocks.delete(block.number);
  blocks.set(block.number, block);
  if (blocks.size > MAX_BLOCKS_PER_CHAIN) blocks.delete(blocks.keys().next().value!);
}

async function fetchBlock(client: BlockClient, which: bigint | "latest"): Promise<CachedBlock | undefined> {
  try {
    const block =
      which === "latest"
        ? await client.getBlock({ blockTag: "latest", includeTransactions: true })
        : await client.getBlock({ blockNumber: which, includeTransactions: true });
    if (block.number === null || block.hash === null) return undefined; // pending: not a block yet
    return {
      number: block.number,
      hash: block.hash.toLowerCase() as Hex,
      parentHash: block.parentHash.toLowerCase() as Hex,
      timestamp: block.timestamp,
      calls: readHandlerCalls(block.transactions),
    };
  } catch (e) {
    if (e instanceof BlockNotFoundError) return undefined;
    throw e;
  }
}

/**
 * Reads block `number` with its transactions now and keeps it (replacing what the cache held at
 * that height); concurrent reads of one block in the isolate share one request, waited for at most
 * SHARED_READ_PATIENCE_MS (await-shared.ts).
 * @returns undefined when the RPC node has no such block (yet) @throws on RPC failure
 */
export function readBlock(client: BlockClient, chainKey: string, number: bigint): Promise<CachedBlock | undefined> {
  return sharedBlockReads(`${chainKey}:${number}`, async () => {
    const block = await fetchBlock(client, number);
    if (block) store(chainKey, block);
    return block;
  });
}

/** What readCanonicalBlocks found: the head it read and every block from the lowest asked for to it, newest first. */
export interface CanonicalBlocks {
  head: bigint;
  blocks: CachedBlock[];
}

/**
 * The blocks in [lowestFor(head), head] as the RPC node has them now, each read once per isolate: the head
 * is read afresh (with its transactions), and a cached block is used only while parent links tie
 * it to that head (planBlockReads); missing blocks are read, blocks of an abandoned fork dropped
 * and read again.
 * @throws on RPC failure, or a WavsError (retryable) when the chain would not hold still
 */
export async function readCanonicalBlocks(
  client: BlockClient,
  chainKey: string,
  lowestFor: (head: bigint) => bigint,
): Promise<CanonicalBlocks> {
  const head = await fetchBlock(client, "latest");
  if (!head) throw new WavsError("rpc_no_head", "the RPC node returned no latest block", { retryable: true });
  store(chainKey, head);
  const lowest = lowestFor(head.number);
  if (head.number - lowest >= BigInt(MAX_BLOCKS_PER_CHAIN))
    throw new WavsError("search_too_wide", `a search of blocks ${lowest}..${head.number} would not fit the cache`);
  const blocks = blocksOf(chainKey);
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const plan = planBlockReads(blocks, head, lowest);
    if (plan.read.length === 0) {
      // Collected in the same tick as the plan: no concurrent search can change the run meanwhile.
      const run: CachedBlock[] = head.number >= lowest ? [head] : [];
      for (let n = head.number - 1n; n >= lowest; n--) run.push(blocks.get(n)!);
      return { head: head.number, blocks: run };
    }
    for (const n of plan.drop) blocks.delete(n);
    for (let i = 0; i < plan.read.length; i += READ_WINDOW) {
      // A block a concurrent search stored since the plan is not read again: the next round's
      // plan checks its links like any other.
      const window = plan.read.slice(i, i + READ_WINDOW).filter((n) => !blocks.has(n));
      const read = await Promise.all(window.map((n) => readBlock(client, chainKey, n)));
      if (read.some((b) => b === undefined))
        throw new WavsError("rpc_missing_block", `the RPC node has no block under its head ${head.number}`, {
          retryable: true,
        });
    }
  }
  throw new WavsError("chain_reorganising", `blocks under ${head.number} kept changing while being read`, {
    retryable: true,
  });
}
