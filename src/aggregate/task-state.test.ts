import type { Hex } from "viem";
import { describe, expect, it } from "vitest";
import {
  aggregatorTextOf,
  fromStored,
  statusOf,
  submissionOf,
  toCollecting,
  toFailed,
  toLanded,
  toStandby,
  type Submitting,
} from "./task-state";

const A = `0x${"aa".repeat(20)}` as Hex;
const B = `0x${"bb".repeat(20)}` as Hex;
const TX = `0x${"12".repeat(32)}` as Hex;
const NOW = 1_700_000_000_000;

/** What the node stored before the union: every field at the top level. */
const flatBase = {
  target: {
    eventId: `0x${"ee".repeat(20)}`,
    serviceId: "ab".repeat(32),
    workflowId: "default",
    chain: "evm:31337",
    handler: `0x${"11".repeat(20)}`,
    envelope: { eventId: `0x${"ee".repeat(20)}`, ordering: `0x${"00".repeat(12)}`, payload: "0x01" },
  },
  signatures: { [A]: { signature: "0x01", weight: "100", at: 1, json: "{}" } },
  dropped: { [B]: { signature: "0x02", reason: "deregistered" } },
  triggerBlock: 7,
  gasPrice: "1000",
  askedBy: A,
  rank: 1,
  lostAttempts: 2,
};
const flatWatch = {
  watchingSince: 5,
  heardFrom: { "http://b": 6 },
  searchedThrough: 40,
  peerTxs: { "http://b": { txHash: TX, from: B, nonce: 3 } },
  missingTxChecks: { [TX]: 1 },
  absentChecks: 4,
};

describe("fromStored", () => {
  it("reads nothing stored as no task", () => {
    expect(fromStored(undefined, NOW)).toBeUndefined();
  });

  it("moves a flat collecting state's fields into place", () => {
    expect(fromStored({ ...flatBase, phase: "collecting", evaluateNow: true, collectingPolls: 3 }, NOW)).toEqual({
      ...flatBase,
      phase: "collecting",
      evaluateNow: true,
      collectingPolls: 3,
    });
  });

  it("gathers a flat standby's peer watch and keeps its silent checks", () => {
    expect(fromStored({ ...flatBase, ...flatWatch, phase: "standby", silentChecks: 1 }, NOW)).toEqual({
      ...flatBase,
      phase: "standby",
      silentChecks: 1,
      watch: {
        since: 5,
        heardFrom: { "http://b": 6 },
        searchedThrough: 40,
        peerTxs: { "http://b": { txHash: TX, from: B, nonce: 3 } },
        missingTxChecks: { [TX]: 1 },
        absentChecks: 4,
      },
    });
  });

  it("starts a flat standby without counters at zero silent checks, its watch from now if it never said", () => {
    const state = fromStored({ ...flatBase, phase: "standby", peerTxs: flatWatch.peerTxs }, NOW);
    expect(state).toMatchObject({ phase: "standby", silentChecks: 0, watch: { since: NOW, heardFrom: {} } });
  });

  it("reads a flat claiming state", () => {
    expect(fromStored({ ...flatBase, phase: "claiming", searchedThrough: 9 }, NOW)).toEqual({
      ...flatBase,
      phase: "claiming",
      watch: { since: NOW, heardFrom: {}, searchedThrough: 9 },
    });
  });

  it("reads a flat submitting state with its request, key, transaction and claim time", () => {
    const flat = {
      ...flatBase,
      phase: "submitting",
      requestId: "r:1",
      submitterKey: `evm:31337:${B}`,
      from: B,
      claimedAt: 44,
      txHash: TX,
      nonce: 3,
    };
    const {
      phase: _p,
      requestId: _r,
      submitterKey: _k,
      from: _f,
      claimedAt: _c,
      txHash: _t,
      nonce: _n,
      ...rest
    } = flat;
    expect(fromStored(flat, NOW)).toEqual({
      ...rest,
      phase: "submitting",
      requestId: "r:1",
      submitterKey: `evm:31337:${B}`,
      from: B,
      claimedAt: 44,
      txHash: TX,
      nonce: 3,
    });
  });

  it("claims again a flat submitting state that never stored its request (nothing was handed over)", () => {
    expect(fromStored({ ...flatBase, phase: "submitting" }, NOW)).toEqual({ ...flatBase, phase: "claiming" });
  });

  it("reads a flat landed state with its burn window and owed callback", () => {
    const callback = { txResult: { ok: TX }, done: false };
    expect(fromStored({ ...flatBase, phase: "landed", txHash: TX, burnUntil: 99, callback }, NOW)).toEqual({
      ...flatBase,
      phase: "landed",
      txHash: TX,
      burnUntil: 99,
      callback,
    });
  });

  it("reads a flat failed state with its error and the reverted transaction", () => {
    const callback = { txResult: { err: "boom" }, done: true };
    expect(fromStored({ ...flatBase, phase: "failed", error: "boom", txHash: TX, callback }, NOW)).toEqual({
      ...flatBase,
      phase: "failed",
      error: "boom",
      txHash: TX,
      callback,
    });
  });

  it("refuses what no node stored: no target, or an unknown phase", () => {
    expect(() => fromStored({ phase: "collecting" }, NOW)).toThrow(/target/);
    expect(() => fromStored({ ...flatBase, phase: "sleeping" }, NOW)).toThrow(/phase/);
  });

  it("reads back what this version stores unchanged", () => {
    const standby = toStandby({ ...flatBase, watch: { since: 1, heardFrom: {} } } as never, 1);
    expect(fromStored(structuredClone(standby), NOW)).toEqual(standby);
  });
});

describe("a task's submissions", () => {
  const input =
    '{"trigger_action":{"config":{},"data":{"Raw":[]}},"operator_response":{"ordering":null,"event_id_salt":[1]}}';

  it("hands out the Submission JSON an older task stored whole, as stored", () => {
    const older = fromStored({ ...flatBase, phase: "collecting" }, NOW)!;
    expect(submissionOf(older, A)).toBe("{}");
    expect(aggregatorTextOf(older, A)).toBe("{}");
    expect(submissionOf(older, B)).toBeUndefined();
  });

  it("rebuilds a compact signer's JSON from the task's envelope, the shared or its own input and its prefix", () => {
    const task = fromStored(
      {
        ...flatBase,
        phase: "collecting",
        input,
        signatures: {
          [A]: { signature: "0x01", weight: "100", at: 1 },
          [B]: { signature: "0x02", weight: "100", at: 1, prefix: null, input: input.replace("[1]", "[2]") },
        },
      },
      NOW,
    )!;
    expect(task.input).toBe(input);
    const a = JSON.parse(submissionOf(task, A)!);
    expect(a.operator_response).toEqual({ payload: [1], ordering: null, event_id_salt: [1] });
    expect(a.envelope_signature).toEqual({
      algorithm: "secp256k1",
      data: [1],
      kind: { algorithm: "secp256k1", prefix: "eip191" },
    });
    const b = JSON.parse(submissionOf(task, B)!);
    expect(b.operator_response.event_id_salt).toEqual([2]);
    expect(b.envelope_signature.kind.prefix).toBeNull();
    expect(aggregatorTextOf(task, A)).toBe(input);
  });
});

describe("phase changes", () => {
  const submitting = {
    ...flatBase,
    phase: "submitting",
    requestId: "r",
    submitterKey: "k",
    from: B,
    claimedAt: 1,
    txHash: TX,
    nonce: 3,
  } as Submitting;

  it("keep the base and leave the old phase's fields behind", () => {
    const collecting = toCollecting(submitting);
    expect(collecting).toEqual({ ...flatBase, phase: "collecting" });
    expect("requestId" in collecting).toBe(false);
  });

  it("owe the submit callback on landing and on failing, a failed send keeping its hash", () => {
    expect(toLanded(submitting, TX, 50)).toMatchObject({ phase: "landed", burnUntil: 50, callback: { done: false } });
    expect(toFailed(submitting, "reverted")).toMatchObject({
      phase: "failed",
      error: "reverted",
      txHash: TX,
      callback: { txResult: { err: "reverted" }, done: false },
    });
  });

  it("show the sending key and nonce only while submitting", () => {
    expect(statusOf(submitting)).toEqual({ status: "submitting", signers: [A], txHash: TX, from: B, nonce: 3 });
    expect(statusOf(toFailed(submitting, "x"))).toEqual({ status: "failed", signers: [A], txHash: TX, error: "x" });
    expect(statusOf(toCollecting(submitting))).toEqual({ status: "collecting", signers: [A] });
  });
});
