/**
 * What a TaskAggregator does with an authenticated signature: refuse it (another envelope or
 * target than the task's, a signature the manager refused before), answer that the task already
 * landed, or count it. Pure: the TaskAggregator recovers the signer, stores and records.
 */
import type { Hex } from "viem";
import type { Envelope } from "../sign/envelope";
import {
  newTask,
  type AggregationState,
  type AggregationStatus,
  type Landed,
  type SignedSubmission,
  type TaskSignature,
} from "./task-state";
import { triggerBlockOn } from "./trigger-block";

/** A refused submission: never counted. */
export interface SubmissionRefusal {
  accepted: false;
  code: "envelope_mismatch" | "invalid_signature" | "target_mismatch" | "signature_dropped";
  message: string;
}

export type AddSubmissionResult = ({ accepted: true } & AggregationStatus) | SubmissionRefusal;

export type SignatureVerdict =
  | { kind: "refuse"; refusal: SubmissionRefusal }
  /** The task landed: redeliveries do nothing. */
  | { kind: "burned"; state: Landed }
  /** Counted: `next` is to be stored (a collecting task evaluates it in its alarm, due now). */
  | { kind: "count"; next: AggregationState };

/**
 * Takes `submission`, whose signature `recovered` made, into the task `state` (undefined: the
 * first one starts the task). A newer signature from the same signer replaces the older.
 */
export function takeSignature(
  state: AggregationState | undefined,
  submission: SignedSubmission,
  recovered: Hex,
  now: number,
): SignatureVerdict {
  if (state && !sameEnvelope(state.target.envelope, submission.envelope))
    return refuse("envelope_mismatch", "the envelope differs from the one this task started with");
  if (state && (state.target.serviceId !== submission.serviceId || state.target.workflowId !== submission.workflowId))
    return refuse("target_mismatch", "the task belongs to another service or workflow");
  if (state?.phase === "landed") return { kind: "burned", state };
  const dropped = state?.dropped?.[recovered];
  if (dropped && dropped.signature.toLowerCase() === submission.signature.toLowerCase())
    return refuse("signature_dropped", `the service manager refused this signature: ${dropped.reason}`);

  const { signer: _s, signature: _sig, prefix: _p, weight: _w, input: _i, gasPrice: _g, ...target } = submission;
  const next: AggregationState = state ? { ...state } : newTask(target);
  // The envelope is the task's; the rest of the submission is kept once, per signer only if it differs.
  if (submission.input !== undefined && next.input === undefined) next.input = submission.input;
  const entry: TaskSignature = { signature: submission.signature, weight: submission.weight, at: now };
  if (submission.prefix === null) entry.prefix = null;
  if (submission.input !== undefined && submission.input !== next.input) entry.input = submission.input;
  next.signatures = { ...next.signatures, [recovered]: entry };
  // The earliest any signer claims: a wrong one only widens the search (within its lookback).
  const triggerBlock = submission.input ? triggerBlockOn(submission.input, next.target.chain) : undefined;
  if (triggerBlock !== undefined) next.triggerBlock = Math.min(next.triggerBlock ?? Infinity, Number(triggerBlock));
  // As WAVS: the latest submit action for this target decides the gas price.
  next.gasPrice = submission.gasPrice;
  next.askedBy = recovered;
  // Decided in the alarm, not on arrival: the sender (a peer's delivery batch, this node's trigger
  // consumer) would otherwise wait for the preflight, the peers' statuses, the landing search
  // and the send. Signatures arriving together are then counted in one preflight.
  if (next.phase === "collecting") next.evaluateNow = true;
  return { kind: "count", next };
}

function refuse(code: SubmissionRefusal["code"], message: string): SignatureVerdict {
  return { kind: "refuse", refusal: { accepted: false, code, message } };
}

function sameEnvelope(a: Envelope, b: Envelope): boolean {
  return (
    a.eventId.toLowerCase() === b.eventId.toLowerCase() &&
    a.ordering.toLowerCase() === b.ordering.toLowerCase() &&
    a.payload.toLowerCase() === b.payload.toLowerCase()
  );
}
