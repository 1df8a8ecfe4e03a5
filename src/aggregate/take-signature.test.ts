import type { Hex } from "viem";
import { describe, expect, it } from "vitest";
import { takeSignature } from "./take-signature";
import type { AggregationState, SignedSubmission } from "./task-state";

const A = `0x${"aa".repeat(20)}` as Hex;
const B = `0x${"bb".repeat(20)}` as Hex;
const TX = `0x${"12".repeat(32)}` as Hex;
const NOW = 1_000;
const envelope = {
  eventId: `0x${"ee".repeat(20)}` as Hex,
  ordering: `0x${"00".repeat(12)}` as Hex,
  payload: "0xab" as Hex,
};
const submission: SignedSubmission = {
  eventId: envelope.eventId,
  serviceId: "ab".repeat(32),
  workflowId: "default",
  chain: "evm:31337",
  handler: `0x${"11".repeat(20)}`,
  envelope,
  signer: A,
  signature: "0x0a",
  weight: "100",
  gasPrice: "7",
};
const { signer: _s, signature: _sig, weight: _w, gasPrice: _g, ...target } = submission;

describe("takeSignature", () => {
  it("starts a task with the first signature, to be evaluated at once", () => {
    const verdict = takeSignature(undefined, submission, A, NOW);
    expect(verdict).toEqual({
      kind: "count",
      next: {
        target,
        phase: "collecting",
        signatures: { [A]: { signature: "0x0a", weight: "100", at: NOW } },
        gasPrice: "7",
        askedBy: A,
        evaluateNow: true,
      },
    });
  });

  it("replaces a signer's older signature, leaving the state it was given as it was", () => {
    const first = takeSignature(undefined, submission, A, NOW);
    if (first.kind !== "count") throw new Error("not counted");
    const second = takeSignature(first.next, { ...submission, signature: "0x0b" }, A, NOW + 1);
    expect(second.kind === "count" && second.next.signatures[A]).toMatchObject({ signature: "0x0b", at: NOW + 1 });
    expect(first.next.signatures[A]!.signature).toBe("0x0a");
  });

  it("counts a signature into a task past collecting without asking for an evaluation", () => {
    const standby: AggregationState = { target, signatures: {}, phase: "standby", silentChecks: 1 };
    const verdict = takeSignature(standby, { ...submission, signer: B }, B, NOW);
    expect(verdict.kind === "count" && verdict.next).toMatchObject({ phase: "standby", askedBy: B });
    expect(verdict.kind === "count" && "evaluateNow" in verdict.next).toBe(false);
  });

  it("keeps the earliest trigger block any signer reports", () => {
    const json = (block: number) =>
      JSON.stringify({
        trigger_action: { config: {}, data: { BlockInterval: { chain: "evm:31337", block_height: block } } },
      });
    const withBlock: AggregationState = { target, signatures: {}, phase: "collecting", triggerBlock: 9 };
    const earlier = takeSignature(withBlock, { ...submission, input: json(5) }, A, NOW);
    const later = takeSignature(withBlock, { ...submission, input: json(12) }, A, NOW);
    expect(earlier.kind === "count" && earlier.next.triggerBlock).toBe(5);
    expect(later.kind === "count" && later.next.triggerBlock).toBe(9);
  });

  it("keeps the submission's input once per task and per signer only what differs (prefix null, another input)", () => {
    const first = takeSignature(undefined, { ...submission, input: "same" }, A, NOW);
    if (first.kind !== "count") throw new Error("not counted");
    const second = takeSignature(first.next, { ...submission, input: "same", prefix: null }, B, NOW);
    if (second.kind !== "count") throw new Error("not counted");
    const C = `0x${"cc".repeat(20)}` as Hex;
    const third = takeSignature(second.next, { ...submission, input: "other" }, C, NOW);
    if (third.kind !== "count") throw new Error("not counted");
    expect(third.next.input).toBe("same");
    expect(third.next.signatures).toEqual({
      [A]: { signature: "0x0a", weight: "100", at: NOW },
      [B]: { signature: "0x0a", weight: "100", at: NOW, prefix: null },
      [C]: { signature: "0x0a", weight: "100", at: NOW, input: "other" },
    });
  });

  it("refuses another envelope (in any case of hex the same one is accepted)", () => {
    const state: AggregationState = { target, signatures: {}, phase: "collecting" };
    const other = { ...submission, envelope: { ...envelope, payload: "0xac" as Hex } };
    expect(takeSignature(state, other, A, NOW)).toMatchObject({
      kind: "refuse",
      refusal: { code: "envelope_mismatch" },
    });
    const upper = { ...submission, envelope: { ...envelope, payload: "0xAB" as Hex } };
    expect(takeSignature(state, upper, A, NOW).kind).toBe("count");
  });

  it("refuses the same envelope for another service or workflow", () => {
    const state: AggregationState = { target, signatures: {}, phase: "collecting" };
    expect(takeSignature(state, { ...submission, workflowId: "other" }, A, NOW)).toMatchObject({
      kind: "refuse",
      refusal: { accepted: false, code: "target_mismatch" },
    });
  });

  it("answers a landed task as burned without counting", () => {
    const landed: AggregationState = { target, signatures: {}, phase: "landed", txHash: TX, burnUntil: NOW + 10 };
    expect(takeSignature(landed, submission, A, NOW)).toEqual({ kind: "burned", state: landed });
  });

  it("refuses a signature the manager refused before, but takes a new one from the same signer", () => {
    const state: AggregationState = {
      target,
      signatures: {},
      phase: "collecting",
      dropped: { [A]: { signature: "0x0A", reason: "deregistered" } },
    };
    expect(takeSignature(state, submission, A, NOW)).toEqual({
      kind: "refuse",
      refusal: {
        accepted: false,
        code: "signature_dropped",
        message: "the service manager refused this signature: deregistered",
      },
    });
    expect(takeSignature(state, { ...submission, signature: "0x0c" }, A, NOW).kind).toBe("count");
  });
});
