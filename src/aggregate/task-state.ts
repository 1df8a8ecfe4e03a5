/**
 * A TaskAggregator's stored state, as a union by phase: the fields every phase has in one base, the
 * rest only where its phase has them. Pure: no storage, no I/O. `fromStored` reads what any version
 * of the node stored (the flat shape with ~25 optional fields included).
 */
import type { Hex } from "viem";
import type { Envelope, SignaturePrefix } from "../sign/envelope";
import { rebuildSubmissionJson } from "./submission";

/** One operator's signed result for one event and one submit target, already authenticated. */
export interface SignedSubmission {
  eventId: Hex;
  serviceId: string;
  workflowId: string;
  chain: string;
  handler: Hex;
  envelope: Envelope;
  signer: Hex;
  signature: Hex;
  /** The workflow's signature_kind.prefix the signature was made with (absent: "eip191"). */
  prefix?: SignaturePrefix;
  /** The signer's operator weight in the service manager when it was authenticated. */
  weight: string;
  /**
   * Its SubmissionInput (submission.ts: the Submission JSON but the envelope and signature), from
   * which the whole is rebuilt for a peer that lacks it and the aggregator component.
   */
  input?: string;
  /** The gas price (wei, decimal) the aggregator component's submit action asked for. */
  gasPrice?: string;
}

/** One signer's signature as a task keeps it. */
export interface TaskSignature {
  signature: Hex;
  weight: string;
  at: number;
  /** Set only when the signature was made without the EIP-191 prefix (null); absent: "eip191". */
  prefix?: SignaturePrefix;
  /** Its SubmissionInput when it differs from the task's `input`. */
  input?: string;
  /** The whole Submission JSON, as tasks stored before `input` (still read, never written). */
  json?: string;
}

/**
 * `claiming`: about to submit, and telling peers so before looking at theirs one last time (two
 * nodes that both claim both see it, and the later-ranked one yields).
 */
export type AggregationPhase = "collecting" | "standby" | "claiming" | "submitting" | "landed" | "failed";

/** What a TaskAggregator answers about itself (also to peers at GET /aggregator/tasks/…). */
export interface AggregationStatus {
  status: AggregationPhase;
  signers: Hex[];
  txHash?: Hex;
  /** While submitting: the sending key and the transaction's nonce, so a standby can tell a slow transaction from a dead one. */
  from?: Hex;
  nonce?: number;
  error?: string;
  /** Set on an answer to a submission that arrived after the task landed. */
  burned?: boolean;
}

/** A transaction a peer reported sending for the task. */
export interface PeerTx {
  txHash: Hex;
  from: Hex;
  nonce: number;
}

/**
 * What this node learnt about its peers and the chain while watching the task. Kept across phases:
 * a claim that yields goes back to standby with it, and a reclaim must still know the peers' sends.
 */
export interface PeerWatch {
  /** When this node first asked its peers about the task: a peer never heard from is presumed up this long. */
  since: number;
  /** When each peer last showed it is up (a status, "no such task", or its rate limit), ms since the epoch. */
  heardFrom: Record<string, number>;
  /** The last block the landing search covered: the next search starts near it. */
  searchedThrough?: number;
  /** Transactions that peers reported while submitting, by node URL. */
  peerTxs?: Record<string, PeerTx>;
  /** Consecutive grace periods in which a reported transaction was missing, by its hash. */
  missingTxChecks?: Record<Hex, number>;
  /** Consecutive grace periods in which the nodes ranked before us that answered had no such task. */
  absentChecks?: number;
}

/** The fields every phase has. */
export interface TaskBase {
  target: Omit<SignedSubmission, "signer" | "signature" | "prefix" | "weight" | "input" | "gasPrice">;
  /** Per signer only what differs from the task: the envelope (payload included) is the target's, once. */
  signatures: Record<Hex, TaskSignature>;
  /** The SubmissionInput the task's signers share (a signer's own only where it differs: TaskSignature.input). */
  input?: string;
  /** Signatures the manager refused on their own (deregistered signer, bad form), by signer: never counted again. */
  dropped?: Record<Hex, { signature: Hex; reason: string }>;
  /** The earliest block the submissions say the trigger fired in (on the submit chain): nothing landed before it. */
  triggerBlock?: number;
  /** Gas price (wei, decimal) from the aggregator component's latest submit action here. */
  gasPrice?: string;
  /** The signer whose submission last asked to submit here: its input goes to handle-submit-callback. */
  askedBy?: Hex;
  /** Submission order among aggregating nodes for this event (0 submits first), set at quorum. */
  rank?: number;
  /** Transactions given up because their nonce went elsewhere; each new one gets a new request id. */
  lostAttempts?: number;
  /** Set once the peers were first asked about the task. */
  watch?: PeerWatch;
  /** handle-submit-callback, owed once the task landed or failed; stored before it runs. */
  callback?: { txResult: { ok: Hex } | { err: string }; done: boolean };
}

export interface Collecting extends TaskBase {
  phase: "collecting";
  /** A signature arrived since the last preflight: the alarm (set to now) evaluates the set. */
  evaluateNow?: boolean;
  /** Times its peers were asked whether the task landed while it was still short of quorum here. */
  collectingPolls?: number;
}

export interface Standby extends TaskBase {
  phase: "standby";
  /** Consecutive grace periods in which no node ranked before us answered as alive. */
  silentChecks: number;
}

export interface Claiming extends TaskBase {
  phase: "claiming";
}

export interface Submitting extends TaskBase {
  phase: "submitting";
  /** ChainSubmitter request, persisted before it is asked to send: a restart asks again, never twice. */
  requestId: string;
  /** The ChainSubmitter's name (chain:address). */
  submitterKey: string;
  /** The sending key's address. */
  from: Hex;
  /** When this node last decided to submit: the ChainSubmitter has an older decision confirmed again. */
  claimedAt: number;
  /** Set once the ChainSubmitter sent it. */
  txHash?: Hex;
  nonce?: number;
}

export interface Landed extends TaskBase {
  phase: "landed";
  txHash: Hex;
  /** Redeliveries do nothing until then; the state is deleted after it. */
  burnUntil: number;
}

export interface Failed extends TaskBase {
  phase: "failed";
  error: string;
  /** The transaction that reverted, if one was sent. */
  txHash?: Hex;
}

export type AggregationState = Collecting | Standby | Claiming | Submitting | Landed | Failed;

/** The base fields of a state of any phase (what a phase change keeps). */
export function baseOf(s: TaskBase): TaskBase {
  const base: TaskBase = { target: s.target, signatures: s.signatures };
  for (const key of BASE_OPTIONAL) if (s[key] !== undefined) (base as unknown as Record<string, unknown>)[key] = s[key];
  return base;
}

const BASE_OPTIONAL = [
  "input",
  "dropped",
  "triggerBlock",
  "gasPrice",
  "askedBy",
  "rank",
  "lostAttempts",
  "watch",
  "callback",
] as const satisfies readonly (keyof TaskBase)[];

/** A fresh task for a first submission. */
export function newTask(target: TaskBase["target"]): Collecting {
  return { target, signatures: {}, phase: "collecting" };
}

export const toCollecting = (s: TaskBase): Collecting => ({ ...baseOf(s), phase: "collecting" });
export const toStandby = (s: TaskBase, silentChecks = 0): Standby => ({ ...baseOf(s), phase: "standby", silentChecks });
export const toClaiming = (s: TaskBase): Claiming => ({ ...baseOf(s), phase: "claiming" });
export const toSubmitting = (
  s: TaskBase,
  send: Pick<Submitting, "requestId" | "submitterKey" | "from" | "claimedAt">,
): Submitting => ({ ...baseOf(s), phase: "submitting", ...send });

/** Landed in `txHash`: burned until `burnUntil`, the submit callback owed. */
export const toLanded = (s: TaskBase, txHash: Hex, burnUntil: number): Landed => ({
  ...baseOf(s),
  phase: "landed",
  txHash,
  burnUntil,
  callback: { txResult: { ok: txHash }, done: false },
});

/** Failed for good with `error` (the submit callback owed); a sent transaction's hash is kept. */
export const toFailed = (s: AggregationState, error: string): Failed => ({
  ...baseOf(s),
  phase: "failed",
  error,
  ...(s.phase === "submitting" && s.txHash ? { txHash: s.txHash } : {}),
  callback: { txResult: { err: error }, done: false },
});

/** What the task answers about itself. */
export function statusOf(state: AggregationState): AggregationStatus {
  const txHash =
    state.phase === "submitting" || state.phase === "landed" || state.phase === "failed" ? state.txHash : undefined;
  return {
    status: state.phase,
    signers: Object.keys(state.signatures) as Hex[],
    ...(txHash ? { txHash } : {}),
    ...(state.phase === "submitting" && state.nonce !== undefined ? { from: state.from, nonce: state.nonce } : {}),
    ...(state.phase === "failed" ? { error: state.error } : {}),
  };
}

/** The SubmissionInput of a signer's signature in the task (undefined: none kept; see submissionOf for older tasks). */
export function inputOf(task: Pick<TaskBase, "input" | "signatures">, signer: Hex): string | undefined {
  const s = task.signatures[signer];
  return s ? (s.input ?? (s.json === undefined ? task.input : undefined)) : undefined;
}

/**
 * The text the aggregator component's input is read from for a signer (aggregator-input.ts reads
 * either form): its SubmissionInput, or the whole Submission JSON an older task stored.
 */
export function aggregatorTextOf(task: Pick<TaskBase, "input" | "signatures">, signer: Hex): string | undefined {
  return inputOf(task, signer) ?? task.signatures[signer]?.json;
}

/**
 * WAVS's Submission JSON of a signer's signature in the task, rebuilt from the target's envelope
 * and what the task keeps for it (or as an older task stored it); undefined when none is kept.
 */
export function submissionOf(task: Pick<TaskBase, "target" | "input" | "signatures">, signer: Hex): string | undefined {
  const s = task.signatures[signer];
  if (!s) return undefined;
  if (s.json !== undefined) return s.json;
  const input = inputOf(task, signer);
  return input === undefined
    ? undefined
    : rebuildSubmissionJson(task.target.envelope, input, s.signature, s.prefix === null ? null : "eip191");
}

const PHASES: readonly AggregationPhase[] = ["collecting", "standby", "claiming", "submitting", "landed", "failed"];

/**
 * Reads a stored state: this shape as is, or the flat one earlier versions stored (every field at the
 * top level, optional), which it moves into place. A submitting task that never stored its request is
 * claiming again (the alarm asks its peers before sending). Undefined for nothing stored; `now`
 * stands for when a flat state's peers were first asked if it did not say.
 * @throws Error when what is stored is no task state (never written by this node)
 */
export function fromStored(raw: unknown, now: number): AggregationState | undefined {
  if (raw === undefined || raw === null) return undefined;
  const r = raw as Record<string, unknown> & TaskBase;
  if (typeof r !== "object" || typeof r.target !== "object" || typeof r.signatures !== "object")
    throw new Error("the stored aggregation state has no target or signatures");
  const phase = r.phase as AggregationPhase;
  if (!PHASES.includes(phase)) throw new Error(`the stored aggregation state has an unknown phase: ${String(r.phase)}`);
  const base = baseOf(r);
  // The flat shape kept the peer watch at the top level.
  const flatWatch = ["searchedThrough", "peerTxs", "missingTxChecks", "absentChecks"] as const;
  if (
    !base.watch &&
    (r.watchingSince !== undefined || r.heardFrom !== undefined || flatWatch.some((k) => r[k] !== undefined))
  ) {
    const watch: PeerWatch = {
      since: (r.watchingSince as number | undefined) ?? now,
      heardFrom: (r.heardFrom as Record<string, number> | undefined) ?? {},
    };
    for (const key of flatWatch) if (r[key] !== undefined) (watch as unknown as Record<string, unknown>)[key] = r[key];
    base.watch = watch;
  }
  const txHash = r.txHash as Hex | undefined;
  switch (phase) {
    case "collecting":
      return {
        ...base,
        phase,
        ...(r.evaluateNow !== undefined ? { evaluateNow: r.evaluateNow as boolean } : {}),
        ...(r.collectingPolls !== undefined ? { collectingPolls: r.collectingPolls as number } : {}),
      };
    case "standby":
      return { ...base, phase, silentChecks: (r.silentChecks as number | undefined) ?? 0 };
    case "claiming":
      return { ...base, phase };
    case "submitting": {
      if (typeof r.requestId !== "string" || typeof r.submitterKey !== "string") return { ...base, phase: "claiming" };
      return {
        ...base,
        phase,
        requestId: r.requestId,
        submitterKey: r.submitterKey,
        from: (r.from as Hex | undefined) ?? (r.submitterKey.split(":").pop() as Hex),
        claimedAt: (r.claimedAt as number | undefined) ?? 0,
        ...(txHash ? { txHash } : {}),
        ...(r.nonce !== undefined ? { nonce: r.nonce as number } : {}),
      };
    }
    case "landed":
      return { ...base, phase, txHash: txHash as Hex, burnUntil: (r.burnUntil as number | undefined) ?? 0 };
    case "failed":
      return {
        ...base,
        phase,
        error: (r.error as string | undefined) ?? "unknown error",
        ...(txHash ? { txHash } : {}),
      };
  }
}
