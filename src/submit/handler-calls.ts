import { decodeFunctionData, type Hex } from "viem";
import type { publicClientFor } from "../chain/rpc";
import { wavsHandlerAbi } from "../chain/wavs-abi";
import type { Envelope } from "../sign/envelope";

/** One handleSignedEnvelope call found in a block: to which handler, for which event id. */
export interface HandlerCall {
  handler: string;
  eventId: string;
  txHash: Hex;
}

/**
 * Blocks this deep under the head are read once per isolate and kept (their handler calls only):
 * every claim used to read each block since the trigger again, some 55 block reads per event under
 * load. The newest ones are read each time: the RPC node (or the next one behind a failover) may
 * still be catching up with them.
 */
const STABLE_DEPTH = 8n;
/** Blocks kept per chain; the oldest go first. */
const MAX_BLOCKS_PER_CHAIN = 4096;

const cache = new Map<string, Map<bigint, HandlerCall[]>>();

/** The handleSignedEnvelope calls in a block's transactions (any handler), decoded. */
export function readHandlerCalls(transactions: readonly { to: Hex | null; input: Hex; hash: Hex }[]): HandlerCall[] {
  const calls: HandlerCall[] = [];
  for (const tx of transactions) {
    if (!tx.to || tx.input.length < 10) continue;
    try {
      const call = decodeFunctionData({ abi: wavsHandlerAbi, data: tx.input });
      if (call.functionName !== "handleSignedEnvelope") continue;
      calls.push({
        handler: tx.to.toLowerCase(),
        eventId: (call.args[0] as Envelope).eventId.toLowerCase(),
        txHash: tx.hash,
      });
    } catch {
      // some other call
    }
  }
  return calls;
}

/**
 * Transactions in blocks [from, latest] that call `handler`'s handleSignedEnvelope for `eventId`,
 * newest block first (the caller checks their receipts). Blocks at least STABLE_DEPTH under
 * `latest` come from the isolate's cache once read.
 * @throws on RPC failure
 */
export async function findHandlerCalls(
  client: ReturnType<typeof publicClientFor>,
  chainKey: string,
  target: { handler: Hex; eventId: Hex },
  from: bigint,
  latest: bigint,
): Promise<Hex[]> {
  const blocks = cache.get(chainKey) ?? new Map<bigint, HandlerCall[]>();
  cache.set(chainKey, blocks);
  const handler = target.handler.toLowerCase();
  const eventId = target.eventId.toLowerCase();
  const found: Hex[] = [];
  for (let top = latest; top >= from; top -= 8n) {
    const numbers: bigint[] = [];
    for (let n = top; n > top - 8n && n >= from; n--) numbers.push(n);
    const calls = await Promise.all(
      numbers.map(async (blockNumber) => {
        const hit = blocks.get(blockNumber);
        if (hit) return hit;
        const block = await client.getBlock({ blockNumber, includeTransactions: true });
        const read = readHandlerCalls(block.transactions);
        if (blockNumber + STABLE_DEPTH <= latest) {
          blocks.set(blockNumber, read);
          if (blocks.size > MAX_BLOCKS_PER_CHAIN) blocks.delete(blocks.keys().next().value!);
        }
        return read;
      }),
    );
    for (const call of calls.flat()) if (call.handler === handler && call.eventId === eventId) found.push(call.txHash);
  }
  return found;
}
