/**
 * What the ChainSubmitter does with one of its transactions, decided from what a receipt sweep
 * saw of the chain. Pure: every rule is tested without a runtime or a chain (the shell in
 * chain-submitter.ts reads the chain, calls these and performs the step).
 */
import type { Hex } from "viem";
import type { RequestRecord, SendOutcome, SentVersion, SettledOutcome } from "./send-request";
import { capFees, type SpendingLimits } from "./spending-limits";

/**
 * How long the key's nonce must stay used with no receipt of ours before our transaction counts as
 * lost, and how long a transaction must stay out of the pool before it is re-sent or cancelled.
 * The count and the receipt can come from views a moment apart (anvil's automine updates the count
 * first; an RPC behind a load balancer): bench:e2e saw a transaction reported lost 7 ms after it
 * was mined, and a re-send there would be a second transaction.
 */
export const CONFIRM_MS = 3_000;

/** What one sweep saw of the chain, for one record. */
export interface ChainView {
  now: number;
  /** The key's transactions mined by the latest block (its nonce count there). */
  minedCount: number;
  /** The mined ones plus those in the pool with no gap before them; undefined when not read. */
  pendingCount?: number;
  /**
   * Whether the RPC node's pool holds the live version, asked only when the pending count is at or
   * below the nonce (some providers answer the mined count for "pending"; one queued behind a gap
   * is in the pool all the same).
   */
  inPool?: boolean;
  /** The receipt of one of the record's versions, when one is mined. */
  receipt?: { hash: Hex; success: boolean; blockNumber: bigint; gasUsed: bigint };
}

export interface DecisionRules {
  stuckAfterMs: number;
  /**
   * Whether the request's bytes may go out again as they are: no guard, or its claim is still
   * fresh. Otherwise a standby may have taken over meanwhile, and only a cancellation is safe.
   */
  mayRebroadcast: boolean;
}

export type TxStep =
  /** The transaction (or its cancellation) is mined: final. */
  | { do: "settle"; outcome: SettledOutcome }
  /** Nothing to do now (the record's marks may have changed: store them). */
  | { do: "wait" }
  /** Guarded: the nonce went to a transaction we did not sign; report it, send nothing. */
  | { do: "report-lost" }
  /** Unguarded: the nonce went elsewhere; send the request again with a fresh nonce. */
  | { do: "resend" }
  /** Out of the pool: the same bytes again. */
  | { do: "rebroadcast" }
  /** Out of the pool and the claim is stale: fill the nonce with a transfer to ourselves. */
  | { do: "cancel" }
  /** Unmined past TX_STUCK_AFTER_MS: the same call with fees raised. */
  | { do: "bump" };

/**
 * The next step for an unsettled record given the sweep's view. Updates the record's marks
 * (nonceGoneAt, missingSince) in place; the caller stores the record.
 */
export function decideTransaction(record: RequestRecord, view: ChainView, rules: DecisionRules): TxStep {
  const { now } = view;
  if (view.receipt) return { do: "settle", outcome: settledBy(record, view.receipt) };
  if (view.minedCount > record.nonce) {
    // Used, and none of ours has a receipt: lost once that holds for a while (views may lag).
    record.missingSince = undefined;
    record.nonceGoneAt ??= now;
    if (now - record.nonceGoneAt < CONFIRM_MS) return { do: "wait" };
    return record.request.guardedBy ? { do: "report-lost" } : { do: "resend" };
  }
  record.nonceGoneAt = undefined;
  const live = record.sent.at(-1)!;
  if (view.pendingCount !== undefined && view.pendingCount <= record.nonce && view.inPool === false) {
    // Dropped from the pool, or it never arrived.
    record.missingSince ??= now;
    if (now - record.missingSince < CONFIRM_MS) return { do: "wait" };
    record.missingSince = now; // one attempt per window
    return live.cancel || rules.mayRebroadcast ? { do: "rebroadcast" } : { do: "cancel" };
  }
  if (view.pendingCount !== undefined) record.missingSince = undefined;
  if (now - live.at > rules.stuckAfterMs) return { do: "bump" };
  return { do: "wait" };
}

/** The final outcome when the receipt of one of the record's versions was found. */
function settledBy(record: RequestRecord, receipt: NonNullable<ChainView["receipt"]>): SettledOutcome {
  const version = record.sent.find((s) => s.hash === receipt.hash);
  if (version?.cancel) return { state: "withdrawn", txHash: receipt.hash, nonce: record.nonce };
  return {
    state: "mined",
    txHash: receipt.hash,
    success: receipt.success,
    blockNumber: receipt.blockNumber,
    gasUsed: receipt.gasUsed,
    nonce: record.nonce,
    replacements: Math.max(0, record.sent.length - 1),
  };
}

/** What a caller hears about the record now: its final outcome, or where it stands. */
export function outcomeOf(record: RequestRecord): SendOutcome {
  if (record.outcome) return record.outcome;
  const live = record.sent.at(-1)!;
  return {
    state: "pending",
    txHash: live.hash,
    nonce: record.nonce,
    replacements: Math.max(0, record.sent.length - 1),
    ...(live.cancel ? { cancelling: true } : {}),
  };
}

export interface Fees {
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
}

/** Each replacement raises both fees by a quarter (nodes require ≥ 10 %). */
const BUMP_NUMERATOR = 5n;
const BUMP_DENOMINATOR = 4n;
/** Replacements stop at this multiple of the first fees. */
const FEE_CAP_MULTIPLE = 8n;

/**
 * The fees of the record's next version: a bump (raised, held to 8× the first fees and to the
 * operator's price ceiling) or a cancellation (raised without either cap: it must outbid the live
 * bytes, or they could land after a standby's transaction). Undefined at the cap: wait, do not spam.
 */
export function nextFees(record: RequestRecord, version: "bump" | "cancel", limits: SpendingLimits): Fees | undefined {
  const last = record.sent.at(-1)!;
  const first = record.sent[0]!;
  const bump = (fee: string) => (BigInt(fee) * BUMP_NUMERATOR) / BUMP_DENOMINATOR + 1n;
  const cap = (fee: string, firstFee: string) =>
    version === "cancel" ? bump(fee) : min(bump(fee), BigInt(firstFee) * FEE_CAP_MULTIPLE);
  let fees: Fees = {
    maxFeePerGas: cap(last.maxFeePerGas, first.maxFeePerGas),
    maxPriorityFeePerGas: cap(last.maxPriorityFeePerGas, first.maxPriorityFeePerGas),
  };
  if (version === "bump") fees = capFees(limits, fees);
  return fees.maxFeePerGas > BigInt(last.maxFeePerGas) ? fees : undefined;
}

/**
 * What a new version may cost at the most beyond what the live one already committed (what the
 * service's hourly spend ceiling counts): a cancellation counts nothing.
 */
export function committedWei(record: RequestRecord, fees: Fees, cancel: boolean): bigint {
  if (cancel) return 0n;
  const last: SentVersion | undefined = record.sent.at(-1);
  return (
    record.request.gas * fees.maxFeePerGas -
    (last && !last.cancel ? record.request.gas * BigInt(last.maxFeePerGas) : 0n)
  );
}

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
