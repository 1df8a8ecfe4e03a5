/**
 * Landing detection: did event X land on handler H, and in which transaction. WAVS's handlers
 * emit no event of their own, so there are no logs to filter: where the chain's RPC node has call
 * traces (handler-traces.ts) one request answers each question; elsewhere the handler's blocks
 * (read with their transactions, once per isolate: handler-calls.ts) and receipts do.
 * Reads only; every function @throws on RPC failure.
 */
import type { Hex } from "viem";
import { readHandlerCalls } from "../chain/handler-calls";
import type { publicClientFor } from "../chain/rpc";
import { findHandlerCalls, MAX_SEARCH_BLOCKS } from "./handler-calls";
import { traceHandlerCalls, traceTransactionCalls } from "./handler-traces";
import { readReceipt } from "./read-receipt";

type Client = ReturnType<typeof publicClientFor>;

/** The chain to read: its client and its key (what per-isolate caches are kept under). */
export interface LandingChain {
  client: Client;
  key: string;
  /** The chain's head, read at most a second ago (recent-head.ts). */
  recentHead: () => Promise<bigint>;
}

/** The event and the handler a landing is looked for. */
export interface LandingTarget {
  handler: Hex;
  eventId: Hex;
}

/** Whether `txHash` is a mined, successful transaction sent to `handler` (its receipt). */
export async function succeededOnHandler(chain: LandingChain, handler: Hex, txHash: Hex): Promise<boolean> {
  const receipt = await readReceipt(chain.client, txHash);
  return receipt?.status === "success" && receipt.to?.toLowerCase() === handler.toLowerCase();
}

/**
 * Whether transaction `txHash` landed the event on the handler: a handleSignedEnvelope call for
 * it that took effect. From the call traces where the node has them (one request; the call may sit
 * inside another contract's transaction), else from the receipt and the transaction (a direct call).
 */
export async function landsEvent(chain: LandingChain, target: LandingTarget, txHash: Hex): Promise<boolean> {
  const { client } = chain;
  const eventId = target.eventId.toLowerCase();
  const traced = await traceTransactionCalls(client, chain.key, target.handler, txHash);
  if (traced !== "unsupported") return traced.some((call) => call.eventId === eventId && call.succeeded);
  if (!(await succeededOnHandler(chain, target.handler, txHash))) return false;
  const tx = await client.getTransaction({ hash: txHash });
  const handler = target.handler.toLowerCase();
  return readHandlerCalls([tx]).some((call) => call.handler === handler && call.eventId === eventId);
}

/**
 * A landing of the event on the handler in blocks from `from` to the newest, at most `lookback`
 * blocks back from the head (capped at MAX_SEARCH_BLOCKS). With call traces: one trace_filter
 * from there to the node's newest block (the head, read at most 1 s ago, only bounds the range and
 * is what the search reports as searched); a candidate counts once its whole transaction says so
 * (landsEvent). Without: the blocks read with their transactions, every candidate's receipt afresh.
 * @returns the landing, or the block searched through (for the next search)
 */
export async function findLanding(
  chain: LandingChain,
  target: LandingTarget,
  range: { from: bigint; lookback: bigint },
): Promise<{ landed: Hex } | { searchedThrough: bigint }> {
  const { client } = chain;
  const head = await chain.recentHead();
  let span = range.lookback;
  if (span > MAX_SEARCH_BLOCKS) span = MAX_SEARCH_BLOCKS;
  const oldest = head - span + 1n;
  const lowest = range.from > oldest ? range.from : oldest;
  const traced = await traceHandlerCalls(client, chain.key, target.handler, lowest);
  if (traced !== "unsupported") {
    const eventId = target.eventId.toLowerCase();
    // trace_filter shows the handler's calls, not their callers: the whole transaction decides.
    for (const call of traced.filter((c) => c.eventId === eventId && c.succeeded).reverse())
      if (await landsEvent(chain, target, call.txHash)) return { landed: call.txHash };
    return { searchedThrough: head };
  }
  // A cached block can only add a candidate, never a landing: each is checked on its receipt.
  const found = await findHandlerCalls(client, chain.key, target, range);
  for (const txHash of found.txHashes)
    if (await succeededOnHandler(chain, target.handler, txHash)) return { landed: txHash };
  return { searchedThrough: found.head };
}
