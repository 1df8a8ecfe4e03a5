/**
 * What the chain says about a task: whether a transaction landed it, where a peer's reported send
 * stands, a landing among the handler's recent transactions, a revert's reason. Reads only; every
 * function @throws on RPC failure (the TaskAggregator's alarm asks again).
 */
import { TransactionNotFoundError, type Hex } from "viem";
import { readHandlerCalls } from "../chain/handler-calls";
import { publicClientFor } from "../chain/rpc";
import { wavsHandlerAbi } from "../chain/wavs-abi";
import { chainByKey } from "../config";
import { parseSubmitterCredential } from "../sign/signing-keys";
import { describeRevert } from "../submit/describe-revert";
import { findHandlerCalls, MAX_SEARCH_BLOCKS } from "../submit/handler-calls";
import { traceHandlerCalls, traceTransactionCalls } from "../submit/handler-traces";
import { readReceipt } from "../submit/read-receipt";
import { recentHead } from "../submit/recent-head";
import { buildSignatureData } from "./signature-data";
import type { SendFate } from "./takeover-decision";
import type { PeerTx, TaskBase } from "./task-state";

type Target = TaskBase["target"];

/**
 * Where a transaction a peer reported stands: "landed" (a successful handler call), "dead"
 * (reverted, or its sender's nonce was used by another transaction, e.g. a replacement, which
 * findLanding then finds if it landed), "pending" (in the pool, or a replacement with its nonce
 * is), else "missing" (dropped from the pool, or never reached our RPC node).
 */
export async function sendFate(env: Env, target: Target, tx: PeerTx): Promise<SendFate> {
  const client = publicClientFor(await chainByKey(env, target.chain));
  const receipt = await readReceipt(client, tx.txHash);
  if (receipt)
    return receipt.status === "success" && receipt.to?.toLowerCase() === target.handler.toLowerCase()
      ? "landed"
      : "dead";
  const used = await client.getTransactionCount({ address: tx.from, blockTag: "latest" });
  if (used > tx.nonce) {
    // Mined between the two reads?
    const late = await readReceipt(client, tx.txHash);
    if (late?.status === "success") return "landed";
    return "dead";
  }
  const inPool = await client.getTransaction({ hash: tx.txHash }).catch((e: unknown) => {
    if (e instanceof TransactionNotFoundError) return undefined;
    throw e; // the RPC failing says nothing: the alarm asks again
  });
  if (inPool) return "pending";
  // Replaced (fees bumped) by a transaction we were not told of: the sender's pending nonce is past it.
  const pendingCount = await client.getTransactionCount({ address: tx.from, blockTag: "pending" });
  return pendingCount > tx.nonce ? "pending" : "missing";
}

/**
 * Whether `txHash` is a successful transaction to the task's handler; with `checkEvent`, also
 * that it calls handleSignedEnvelope for this very event (for a hash from a notice, which any
 * stranger can send). The event check reads the transaction's call traces where the RPC node has
 * them (one call: the handler call, its event and its success together), else the receipt and
 * the transaction.
 */
export async function landedOnchain(
  env: Env,
  target: Target,
  txHash: Hex,
  opts: { checkEvent?: boolean } = {},
): Promise<boolean> {
  const chain = await chainByKey(env, target.chain);
  const client = publicClientFor(chain);
  const eventId = target.eventId.toLowerCase();
  if (opts.checkEvent) {
    const traced = await traceTransactionCalls(client, chain.key, target.handler, txHash);
    if (traced !== "unsupported") return traced.some((call) => call.eventId === eventId && call.succeeded);
  }
  const receipt = await readReceipt(client, txHash);
  const handler = target.handler.toLowerCase();
  if (receipt?.status !== "success" || receipt.to?.toLowerCase() !== handler) return false;
  if (!opts.checkEvent) return true;
  const tx = await client.getTransaction({ hash: txHash });
  return readHandlerCalls([tx]).some((call) => call.handler === handler && call.eventId === eventId);
}

/**
 * A successful handleSignedEnvelope for this event among the handler's calls in the last
 * TAKEOVER_LOOKBACK_BLOCKS blocks (default 256), from the trigger's block at the earliest, and
 * overlapping the last search (`searchedThrough`) by a few blocks only: a claim looks before every
 * submission. Where the RPC node has call traces, one trace_filter from there to its newest block
 * (the head read at most 1 s ago only bounds the range and is what the search counts as searched);
 * else the handler's blocks read with their transactions, each once per isolate. A candidate
 * counts once its whole transaction is read afresh (landedOnchain).
 * @returns the landing, or the block searched through (for the next search)
 */
export async function findLanding(
  env: Env,
  target: Target,
  opts: { triggerBlock?: number; searchedThrough?: number },
): Promise<{ landed: Hex } | { searchedThrough: number }> {
  const chain = await chainByKey(env, target.chain);
  const client = publicClientFor(chain);
  const raw = (env as unknown as Record<string, string | undefined>).TAKEOVER_LOOKBACK_BLOCKS;
  const lookback = BigInt(Number.isInteger(Number(raw)) && Number(raw) > 0 ? Number(raw) : 256);
  // A few blocks of overlap with the last search: the RPC node may have lagged behind then.
  const from = [BigInt(opts.triggerBlock ?? 0), BigInt(opts.searchedThrough ?? 0) - 8n].reduce((a, b) =>
    a > b ? a : b,
  );
  const head = await recentHead(chain);
  const window = (lookback < MAX_SEARCH_BLOCKS ? lookback : MAX_SEARCH_BLOCKS) - 1n;
  const traced = await traceHandlerCalls(
    client,
    chain.key,
    target.handler,
    from > head - window ? from : head - window,
  );
  if (traced !== "unsupported") {
    const eventId = target.eventId.toLowerCase();
    // trace_filter shows the handler's calls, not their callers: the whole transaction decides.
    for (const call of traced.filter((c) => c.eventId === eventId && c.succeeded).reverse())
      if (await landedOnchain(env, target, call.txHash, { checkEvent: true })) return { landed: call.txHash };
    return { searchedThrough: Number(head) };
  }
  // Every candidate's receipt is read afresh: a cached block can only add a candidate, never a landing.
  const found = await findHandlerCalls(client, target.chain, target, { from, lookback });
  for (const txHash of found.txHashes) if (await landedOnchain(env, target, txHash)) return { landed: txHash };
  return { searchedThrough: Number(found.head) };
}

/** Replays the call at the block before the reverted one to read the reason. */
export async function revertReason(
  env: Env,
  task: Pick<TaskBase, "target" | "signatures">,
  blockNumber: bigint,
): Promise<string> {
  const client = publicClientFor(await chainByKey(env, task.target.chain));
  const account = parseSubmitterCredential(env.WAVS_AGGREGATOR_EVM_CREDENTIAL);
  try {
    await client.simulateContract({
      account,
      address: task.target.handler,
      abi: wavsHandlerAbi,
      functionName: "handleSignedEnvelope",
      args: [
        task.target.envelope,
        buildSignatureData(
          Object.fromEntries(Object.entries(task.signatures).map(([k, v]) => [k, v.signature])),
          Number(blockNumber) - 2,
        ),
      ],
      blockNumber: blockNumber - 1n,
    });
    return "unknown reason";
  } catch (e) {
    return describeRevert(e);
  }
}
