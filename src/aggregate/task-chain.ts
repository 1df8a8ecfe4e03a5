/**
 * What the chain says about a task: whether a transaction landed it, where a peer's reported send
 * stands, a landing among the handler's recent transactions, a revert's reason. Reads only; every
 * function @throws on RPC failure (the TaskAggregator's alarm asks again).
 */
import { TransactionNotFoundError, type Hex } from "viem";
import { publicClientFor } from "../chain/rpc";
import { wavsHandlerAbi } from "../chain/wavs-abi";
import { chainByKey } from "../config";
import { parseSubmitterCredential } from "../sign/signing-keys";
import { describeRevert } from "../submit/describe-revert";
import {
  findLanding as findLandingOn,
  type LandingChain,
  landsEvent,
  succeededOnHandler,
} from "../submit/find-landing";
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
 * stranger can send): submit/find-landing.ts reads it.
 */
export async function landedOnchain(
  env: Env,
  target: Target,
  txHash: Hex,
  opts: { checkEvent?: boolean } = {},
): Promise<boolean> {
  const chain = await landingChain(env, target.chain);
  return opts.checkEvent ? landsEvent(chain, target, txHash) : succeededOnHandler(chain, target.handler, txHash);
}

/**
 * A successful handleSignedEnvelope for this event on the task's handler (submit/find-landing.ts)
 * in the last TAKEOVER_LOOKBACK_BLOCKS blocks (default 256), from the trigger's block at the
 * earliest, and overlapping the last search (`searchedThrough`) by a few blocks only: a claim
 * looks before every submission.
 * @returns the landing, or the block searched through (for the next search)
 */
export async function findLanding(
  env: Env,
  target: Target,
  opts: { triggerBlock?: number; searchedThrough?: number },
): Promise<{ landed: Hex } | { searchedThrough: number }> {
  const chain = await landingChain(env, target.chain);
  const raw = (env as unknown as Record<string, string | undefined>).TAKEOVER_LOOKBACK_BLOCKS;
  const lookback = BigInt(Number.isInteger(Number(raw)) && Number(raw) > 0 ? Number(raw) : 256);
  // A few blocks of overlap with the last search: the RPC node may have lagged behind then.
  const from = [BigInt(opts.triggerBlock ?? 0), BigInt(opts.searchedThrough ?? 0) - 8n].reduce((a, b) =>
    a > b ? a : b,
  );
  const found = await findLandingOn(chain, target, { from, lookback });
  return "landed" in found ? found : { searchedThrough: Number(found.searchedThrough) };
}

async function landingChain(env: Env, key: string): Promise<LandingChain> {
  const chain = await chainByKey(env, key);
  return { client: publicClientFor(chain), key: chain.key, recentHead: () => recentHead(chain) };
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
