import type { Hex } from "viem";
import { describe, expect, it } from "vitest";
import type { AggregationState, Submitting } from "./task-state";
import {
  alarmWork,
  COLLECTING_POLL_MAX_MS,
  collectingPollAt,
  HELD_MIN_WAIT_MS,
  judgeSend,
  judgeSettle,
  RECEIPT_POLL_MS,
  reclaim,
} from "./task-timers";

const NOW = 1_000_000;
const TX = `0x${"12".repeat(32)}` as Hex;
const TX2 = `0x${"34".repeat(32)}` as Hex;
const SIGNER = `0x${"aa".repeat(20)}` as Hex;
const base = { target: {} as AggregationState["target"], signatures: {} };
const signed = { [SIGNER]: { signature: "0x01" as Hex, weight: "1", at: 1 } };
const submitting: Submitting = {
  ...base,
  phase: "submitting",
  requestId: "r",
  submitterKey: "evm:1:0xb",
  from: SIGNER,
  claimedAt: 5,
  txHash: TX,
  nonce: 3,
};

describe("alarmWork", () => {
  it("calls an owed submit callback before anything else", () => {
    const owed = { txResult: { ok: TX }, done: false };
    expect(alarmWork({ ...base, phase: "landed", txHash: TX, burnUntil: NOW + 1, callback: owed }, NOW)).toBe(
      "callback",
    );
    expect(alarmWork({ ...base, phase: "failed", error: "x", callback: { ...owed, done: true } }, NOW)).toBe("nothing");
  });

  it("dispatches each phase to its step", () => {
    expect(alarmWork({ ...base, phase: "standby", silentChecks: 0 }, NOW)).toBe("takeover");
    expect(alarmWork({ ...base, phase: "claiming" }, NOW)).toBe("claim");
    expect(alarmWork(submitting, NOW)).toBe("follow");
  });

  it("forgets a landed task only once its burn window passed", () => {
    expect(alarmWork({ ...base, phase: "landed", txHash: TX, burnUntil: NOW }, NOW)).toBe("forget");
    expect(alarmWork({ ...base, phase: "landed", txHash: TX, burnUntil: NOW + 1 }, NOW)).toBe("nothing");
  });

  it("evaluates new signatures at once, asks again when some are held, and does nothing for none", () => {
    expect(alarmWork({ ...base, phase: "collecting", evaluateNow: true }, NOW)).toBe("evaluate-new");
    expect(alarmWork({ ...base, signatures: signed, phase: "collecting" }, NOW)).toBe("evaluate-again");
    expect(alarmWork({ ...base, phase: "collecting" }, NOW)).toBe("nothing");
  });
});

describe("collectingPollAt", () => {
  it("doubles the wait with every poll, up to the cap", () => {
    expect(collectingPollAt(NOW, 1_000, 1)).toBe(NOW + 2_000);
    expect(collectingPollAt(NOW, 1_000, 3)).toBe(NOW + 8_000);
    expect(collectingPollAt(NOW, 1_000, 30)).toBe(NOW + COLLECTING_POLL_MAX_MS);
  });
});

describe("judgeSend", () => {
  it("fails a task whose transaction the chain refused for good", () => {
    expect(judgeSend(submitting, { state: "refused", reason: "gas too high" }, NOW)).toEqual({
      kind: "fail",
      error: "the chain refused the transaction: gas too high",
    });
  });

  it("holds a send at the retry time, never sooner than a second away", () => {
    expect(judgeSend(submitting, { state: "held", reason: "funds", retryAt: NOW + 30_000 }, NOW)).toEqual({
      kind: "hold",
      reason: "funds",
      retryAt: NOW + 30_000,
      at: NOW + 30_000,
    });
    expect(judgeSend(submitting, { state: "held", reason: "funds", retryAt: NOW - 5 }, NOW)).toMatchObject({
      at: NOW + HELD_MIN_WAIT_MS,
    });
  });

  it("claims again after a lost transaction, with a new attempt number and without the old send", () => {
    const verdict = judgeSend({ ...submitting, lostAttempts: 1 }, { state: "lost", txHash: TX, nonce: 3 }, NOW);
    expect(verdict).toMatchObject({ kind: "reclaim", step: "tx_lost", detail: { attempt: 2, tx_hash: TX } });
    expect(verdict.kind === "reclaim" && verdict.next).toEqual({ ...base, phase: "claiming", lostAttempts: 2 });
  });

  it("claims again after a withdrawn claim, naming the cancelled transaction only if there was one", () => {
    expect(reclaim(submitting, { state: "withdrawn" })).toMatchObject({
      step: "claim_withdrawn",
      detail: { attempt: 1 },
    });
    expect(reclaim(submitting, { state: "withdrawn" }).detail).not.toHaveProperty("tx_hash");
  });

  it("follows a sent transaction, noting when its hash or nonce changed", () => {
    const same = judgeSend(submitting, { state: "pending", txHash: TX, nonce: 3, replacements: 0 }, NOW);
    expect(same).toMatchObject({ kind: "sent", changed: false, next: { txHash: TX, nonce: 3 } });
    const replaced = judgeSend(submitting, { state: "pending", txHash: TX2, nonce: 3, replacements: 1 }, NOW);
    expect(replaced).toMatchObject({ kind: "sent", changed: true, next: { phase: "submitting", txHash: TX2 } });
  });
});

describe("judgeSettle", () => {
  const mined = { state: "mined", txHash: TX, blockNumber: 9n, gasUsed: 1n, nonce: 3, replacements: 0 } as const;

  it("looks at a pending transaction again after RECEIPT_POLL_MS", () => {
    expect(judgeSettle({ state: "pending", txHash: TX, nonce: 3, replacements: 0 }, NOW)).toEqual({
      kind: "poll",
      at: NOW + RECEIPT_POLL_MS,
    });
  });

  it("reads a mined transaction as landed or reverted", () => {
    expect(judgeSettle({ ...mined, success: true }, NOW)).toEqual({ kind: "landed", txHash: TX });
    expect(judgeSettle({ ...mined, success: false }, NOW)).toEqual({ kind: "reverted", txHash: TX, blockNumber: 9n });
  });
});
