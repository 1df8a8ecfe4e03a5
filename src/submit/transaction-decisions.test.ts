import { describe, expect, it } from "vitest";
import type { RequestRecord, SentVersion } from "./send-request";
import { parseSpendingLimits } from "./spending-limits";
import {
  type ChainView,
  CONFIRM_MS,
  committedWei,
  decideTransaction,
  nextFees,
  outcomeOf,
} from "./transaction-decisions";

const T0 = 1_000_000;
const version = (n: number, fee: bigint, extra: Partial<SentVersion> = {}): SentVersion => ({
  hash: `0x${n.toString(16).padStart(64, "0")}`,
  raw: "0x02",
  maxFeePerGas: fee.toString(),
  maxPriorityFeePerGas: (fee / 10n).toString(),
  at: T0,
  ...extra,
});
const record = (opts: { guarded?: boolean; sent?: SentVersion[]; nonce?: number } = {}): RequestRecord => ({
  request: {
    requestId: "r",
    chain: "evm:31337",
    to: "0x00000000000000000000000000000000000000c0",
    data: "0x",
    gas: 100_000n,
    ...(opts.guarded === false ? {} : { guardedBy: "guard", claimedAt: T0 }),
  },
  nonce: opts.nonce ?? 7,
  sent: opts.sent ?? [version(1, 1000n)],
});
const rules = { stuckAfterMs: 30_000, mayRebroadcast: true };
/** The key's view with our nonce 7 in the pool, unmined. */
const inPool = (now: number, extra: Partial<ChainView> = {}): ChainView => ({
  now,
  minedCount: 7,
  pendingCount: 8,
  ...extra,
});
/** Nonce 7 out of the pool. */
const outOfPool = (now: number): ChainView => ({ now, minedCount: 7, pendingCount: 7, inPool: false });

describe("deciding a transaction's next step", () => {
  it("settles on a receipt: mined with its status, or withdrawn when the cancellation was mined", () => {
    const r = record({ sent: [version(1, 1000n), version(2, 1251n)] });
    const receipt = { hash: r.sent[0]!.hash, success: true, blockNumber: 5n, gasUsed: 21n };
    expect(decideTransaction(r, inPool(T0, { minedCount: 8, receipt }), rules)).toEqual({
      do: "settle",
      outcome: {
        state: "mined",
        txHash: r.sent[0]!.hash,
        success: true,
        blockNumber: 5n,
        gasUsed: 21n,
        nonce: 7,
        replacements: 1,
      },
    });
    const cancelled = record({ sent: [version(1, 1000n), version(2, 1251n, { cancel: true })] });
    const step = decideTransaction(
      cancelled,
      inPool(T0, { minedCount: 8, receipt: { ...receipt, hash: cancelled.sent[1]!.hash } }),
      rules,
    );
    expect(step).toEqual({ do: "settle", outcome: { state: "withdrawn", txHash: cancelled.sent[1]!.hash, nonce: 7 } });
  });

  it("waits while the nonce is used but no receipt of ours shows, then reports it lost (guarded) or re-sends (unguarded)", () => {
    const guarded = record();
    const used = (now: number): ChainView => ({ now, minedCount: 8, pendingCount: 8 });
    expect(decideTransaction(guarded, used(T0), rules)).toEqual({ do: "wait" });
    expect(guarded.nonceGoneAt).toBe(T0);
    expect(decideTransaction(guarded, used(T0 + CONFIRM_MS - 1), rules)).toEqual({ do: "wait" });
    expect(decideTransaction(guarded, used(T0 + CONFIRM_MS), rules)).toEqual({ do: "report-lost" });
    const unguarded = record({ guarded: false });
    decideTransaction(unguarded, used(T0), rules);
    expect(decideTransaction(unguarded, used(T0 + CONFIRM_MS), rules)).toEqual({ do: "resend" });
  });

  it("forgets a used-nonce sighting that the next look contradicts (the views lagged)", () => {
    const r = record();
    decideTransaction(r, { now: T0, minedCount: 8 }, rules);
    decideTransaction(r, inPool(T0 + 1000), rules);
    expect(r.nonceGoneAt).toBeUndefined();
    expect(decideTransaction(r, { now: T0 + CONFIRM_MS + 1000, minedCount: 8 }, rules)).toEqual({ do: "wait" });
  });

  it("sends the same bytes again once out of the pool for a while, when the claim is fresh; once per window", () => {
    const r = record();
    expect(decideTransaction(r, outOfPool(T0), rules)).toEqual({ do: "wait" });
    expect(decideTransaction(r, outOfPool(T0 + CONFIRM_MS), rules)).toEqual({ do: "rebroadcast" });
    expect(decideTransaction(r, outOfPool(T0 + CONFIRM_MS + 1), rules)).toEqual({ do: "wait" });
    expect(decideTransaction(r, outOfPool(T0 + 2 * CONFIRM_MS), rules)).toEqual({ do: "rebroadcast" });
  });

  it("cancels rather than re-sends when the claim is stale, but always re-sends a cancellation", () => {
    const stale = { ...rules, mayRebroadcast: false };
    const r = record();
    decideTransaction(r, outOfPool(T0), stale);
    expect(decideTransaction(r, outOfPool(T0 + CONFIRM_MS), stale)).toEqual({ do: "cancel" });
    const cancelling = record({ sent: [version(1, 1000n), version(2, 1251n, { cancel: true })] });
    decideTransaction(cancelling, outOfPool(T0), stale);
    expect(decideTransaction(cancelling, outOfPool(T0 + CONFIRM_MS), stale)).toEqual({ do: "rebroadcast" });
  });

  it("does not count a transaction missing when the pool holds it (queued behind a gap, or a provider whose pending count is the mined one)", () => {
    const r = record();
    const queued = { ...outOfPool(T0), inPool: true };
    expect(decideTransaction(r, queued, { ...rules, mayRebroadcast: false })).toEqual({ do: "wait" });
    expect(decideTransaction(r, { ...queued, now: T0 + 10 * CONFIRM_MS }, { ...rules, mayRebroadcast: false })).toEqual(
      { do: "wait" },
    );
    expect(r.missingSince).toBeUndefined();
  });

  it("bumps an unmined transaction in the pool once it is older than TX_STUCK_AFTER_MS", () => {
    const r = record();
    expect(decideTransaction(r, inPool(T0 + 30_000), rules)).toEqual({ do: "wait" });
    expect(decideTransaction(r, inPool(T0 + 30_001), rules)).toEqual({ do: "bump" });
  });
});

describe("what a caller hears", () => {
  it("answers the live version while pending, flagged when it is the cancellation", () => {
    const r = record({ sent: [version(1, 1000n), version(2, 1251n, { cancel: true })] });
    expect(outcomeOf(r)).toEqual({
      state: "pending",
      txHash: r.sent[1]!.hash,
      nonce: 7,
      replacements: 1,
      cancelling: true,
    });
    r.outcome = { state: "lost", txHash: r.sent[1]!.hash, nonce: 7 };
    expect(outcomeOf(r)).toBe(r.outcome);
  });
});

describe("fees of a replacement", () => {
  const limits = parseSpendingLimits({ SUBMIT_MAX_GAS_PRICE_WEI: "0" });

  it("raises both fees by a quarter, up to 8× the first, then stops", () => {
    expect(nextFees(record(), "bump", limits)).toEqual({ maxFeePerGas: 1251n, maxPriorityFeePerGas: 126n });
    const atCap = record({ sent: [version(1, 1000n), version(2, 8000n)] });
    expect(nextFees(atCap, "bump", limits)).toBeUndefined();
  });

  it("holds a bump to the operator's price ceiling, never a cancellation, which must outbid the live bytes", () => {
    const ceiling = parseSpendingLimits({ SUBMIT_MAX_GAS_PRICE_WEI: "1100" });
    expect(nextFees(record(), "bump", ceiling)?.maxFeePerGas).toBe(1100n);
    expect(nextFees(record({ sent: [version(1, 1100n)] }), "bump", ceiling)).toBeUndefined();
    const far = record({ sent: [version(1, 1000n), version(2, 8000n)] });
    expect(nextFees(far, "cancel", ceiling)?.maxFeePerGas).toBe(10_001n);
  });

  it("counts against the spend ceiling only what a version adds to the live one, and nothing for a cancellation", () => {
    const r = record();
    expect(committedWei(r, { maxFeePerGas: 1251n, maxPriorityFeePerGas: 1n }, false)).toBe(100_000n * 251n);
    expect(committedWei(r, { maxFeePerGas: 1251n, maxPriorityFeePerGas: 1n }, true)).toBe(0n);
  });
});
