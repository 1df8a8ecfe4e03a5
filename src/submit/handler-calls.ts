import type { Hex } from "viem";
import { readCanonicalBlocks } from "../chain/block-cache";
import type { publicClientFor } from "../chain/rpc";

/**
 * The most blocks one search reads back from the head: the isolate keeps 4096 blocks per chain,
 * and a search must hold its whole run at once (TAKEOVER_LOOKBACK_BLOCKS is capped at this).
 */
export const MAX_SEARCH_BLOCKS = 2048n;

/** Where a landing search looked and what it found. */
export interface HandlerCallSearch {
  /** The head the search read: the blocks up to it were searched. */
  head: bigint;
  /** Transactions calling the handler's handleSignedEnvelope for the event, newest block first. */
  txHashes: Hex[];
}

/**
 * Transactions in blocks [max(from, head − lookback + 1), head] that call `handler`'s handleSignedEnvelope for `eventId`,
 * newest block first (the caller checks their receipts). The head is read afresh; every other
 * block is read once per isolate and trusted only while parent links tie it to that head
 * (chain/block-cache.ts), so a search costs one block read plus the blocks not seen before.
 * @throws on RPC failure, or a retryable WavsError when the chain would not hold still
 */
export async function findHandlerCalls(
  client: ReturnType<typeof publicClientFor>,
  chainKey: string,
  target: { handler: Hex; eventId: Hex },
  range: { from: bigint; lookback: bigint },
): Promise<HandlerCallSearch> {
  const lookback = range.lookback < MAX_SEARCH_BLOCKS ? range.lookback : MAX_SEARCH_BLOCKS;
  const { head, blocks } = await readCanonicalBlocks(client, chainKey, (headNumber) =>
    range.from > headNumber - lookback + 1n ? range.from : headNumber - lookback + 1n,
  );
  const handler = target.handler.toLowerCase();
  const eventId = target.eventId.toLowerCase();
  const txHashes: Hex[] = [];
  for (const block of blocks)
    for (const call of block.calls)
      if (call.handler === handler && call.eventId === eventId) txHashes.push(call.txHash);
  return { head, txHashes };
}
