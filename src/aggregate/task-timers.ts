/**
 * When a TaskAggregator's alarm wakes it and what it does then, and what a ChainSubmitter's answer
 * means for the task. Pure: the TaskAggregator stores, sets the alarm and records the steps.
 */
import type { Hex } from "viem";
import type { SendOutcome } from "../submit/send-request";
import { toClaiming, type AggregationState, type Claiming, type Submitting } from "./task-state";

/** The longest interval at which a task short of quorum asks its peers whether it landed. */
export const COLLECTING_POLL_MAX_MS = 10 * 60_000;

/** How often a submitting aggregator looks at its transaction. */
export const RECEIPT_POLL_MS = 1_000;

/** How soon a submission interrupted before the ChainSubmitter answered resumes (the request id keeps it to one tx). */
export const SUBMIT_RESUME_MS = 5_000;

/** The soonest a held send is asked about again, whatever retry time the ChainSubmitter gave. */
export const HELD_MIN_WAIT_MS = 1_000;

/** What the alarm does for a task in this state. */
export type AlarmWork =
  /** handle-submit-callback is owed (landed or failed): call it first. */
  | "callback"
  /** a standby's grace period ended: ask the peers, maybe take over */
  | "takeover"
  /** claiming (evicted mid-claim, or a claim deferred): claim again */
  | "claim"
  /** submitting: ask the ChainSubmitter how the transaction does */
  | "follow"
  /** landed and past its burn window: forget the task */
  | "forget"
  /** signatures arrived: preflight the set */
  | "evaluate-new"
  /** short of quorum: ask the manager again, then the peers whether it landed */
  | "evaluate-again"
  | "nothing";

/** The alarm's dispatch. */
export function alarmWork(state: AggregationState, now: number): AlarmWork {
  if (state.callback && !state.callback.done) return "callback";
  switch (state.phase) {
    case "standby":
      return "takeover";
    case "claiming":
      return "claim";
    case "submitting":
      return "follow";
    case "landed":
      return now >= state.burnUntil ? "forget" : "nothing";
    case "collecting":
      if (state.evaluateNow) return "evaluate-new";
      return Object.keys(state.signatures).length > 0 ? "evaluate-again" : "nothing";
    case "failed":
      return "nothing";
  }
}

/** When a task still short of quorum asks again, its peers asked `polls` times: doubling, up to COLLECTING_POLL_MAX_MS. */
export function collectingPollAt(now: number, recheckMs: number, polls: number): number {
  return now + Math.min(recheckMs * 2 ** polls, COLLECTING_POLL_MAX_MS);
}

/** What a ChainSubmitter's answer means for the submitting task. */
export type SendVerdict =
  /** Refused for good: nothing was sent. */
  | { kind: "fail"; error: string }
  /**
   * Nothing sent (the spend ceiling, the paying key's funds): the task stays submitting, so its
   * peers keep waiting for it and no second transaction goes out, and asks again at `at`.
   */
  | { kind: "hold"; reason: string; retryAt: number; at: number }
  /** It can never land (its nonce went elsewhere, or the claim was withdrawn): claim again, with a new request id. */
  | { kind: "reclaim"; next: Claiming; step: "tx_lost" | "claim_withdrawn"; detail: Record<string, unknown> }
  /** Sent: `next` holds its hash and nonce; `changed` when they differ from what the task knew. */
  | {
      kind: "sent";
      next: Submitting;
      changed: boolean;
      outcome: Extract<SendOutcome, { state: "pending" | "mined" }>;
    };

/** Reads a send outcome (from `send`, or from `check` on a request handed over before). */
export function judgeSend(state: Submitting, outcome: SendOutcome, now: number): SendVerdict {
  if (outcome.state === "refused")
    return { kind: "fail", error: `the chain refused the transaction: ${outcome.reason}` };
  if (outcome.state === "held") {
    const at = Math.max(outcome.retryAt, now + HELD_MIN_WAIT_MS);
    return { kind: "hold", reason: outcome.reason, retryAt: outcome.retryAt, at };
  }
  if (outcome.state === "lost" || outcome.state === "withdrawn") return reclaim(state, outcome);
  const changed = outcome.txHash !== state.txHash || outcome.nonce !== state.nonce;
  return { kind: "sent", next: { ...state, txHash: outcome.txHash, nonce: outcome.nonce }, changed, outcome };
}

/**
 * Our transaction can never land (lost), or our claim went stale (withdrawn: before sending, or by
 * a cancelling transfer, now mined): claim again, counting the attempt so the next request has a
 * new id.
 */
export function reclaim(
  state: Submitting,
  outcome: Extract<SendOutcome, { state: "lost" | "withdrawn" }>,
): Extract<SendVerdict, { kind: "reclaim" }> {
  const next = toClaiming({ ...state, lostAttempts: (state.lostAttempts ?? 0) + 1 });
  const detail = { attempt: next.lostAttempts, ...(outcome.txHash ? { tx_hash: outcome.txHash } : {}) };
  return { kind: "reclaim", next, step: outcome.state === "lost" ? "tx_lost" : "claim_withdrawn", detail };
}

/** What a sent transaction's state means: look again at `at`, or it reverted, or it landed. */
export type SettleVerdict =
  | { kind: "poll"; at: number }
  | { kind: "reverted"; txHash: Hex; blockNumber: bigint }
  | { kind: "landed"; txHash: Hex };

export function judgeSettle(outcome: Extract<SendOutcome, { state: "pending" | "mined" }>, now: number): SettleVerdict {
  if (outcome.state === "pending") return { kind: "poll", at: now + RECEIPT_POLL_MS };
  if (!outcome.success) return { kind: "reverted", txHash: outcome.txHash, blockNumber: outcome.blockNumber };
  return { kind: "landed", txHash: outcome.txHash };
}
