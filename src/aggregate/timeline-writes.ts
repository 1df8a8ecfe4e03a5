import type { Db } from "../db/client";
import type { TaskStepRow, TaskUpdate } from "../db/tasks";
import { signingKeyIndex } from "../service/service-registry";
import { deriveServiceSigner } from "../sign/signing-keys";
import type { AggregationState } from "./task-state";

/** Writes timeline rows, and the task's row when `update` is given, in one D1 batch. */
export type AppendSteps = (rows: TaskStepRow[], update: TaskUpdate | undefined) => Promise<void>;

/**
 * Steps written with the next step of the same task rather than on their own: a signature
 * arriving (three per task and node), and a set evaluated as short of quorum without asking the
 * manager. Neither changes the task's row, and a step always follows them: the evaluation the
 * arrival schedules at once, the quorum, the landing, or the recheck alarm (AGGREGATOR_RECHECK_MS),
 * which asks the manager and writes its `waiting_for_quorum`. Each row keeps the time it happened.
 */
export function isDeferredStep(step: string, detail: Record<string, unknown> | undefined): boolean {
  return step === "signature_received" || (step === "waiting_for_quorum" && detail?.estimated === true);
}

/**
 * The part of `update` this writer still has to write to the task's row: undefined when it last
 * wrote the same status, hash and error (the row then already says so). A writer that wrote
 * nothing yet writes whatever `update` holds: the row may be missing or say something else.
 */
export function taskRowChange(written: TaskUpdate | undefined, update: TaskUpdate): TaskUpdate | undefined {
  if (update.status === undefined && update.txHash === undefined && update.error === undefined) return undefined;
  if (
    written &&
    (update.status === undefined || update.status === written.status) &&
    (update.txHash === undefined || update.txHash === written.txHash) &&
    (update.error === undefined || update.error === written.error)
  ) {
    return undefined;
  }
  return update;
}

/**
 * One task's timeline as a TaskAggregator writes it: deferred steps (isDeferredStep) wait in
 * memory for the next step and go with it in one INSERT, with what they change in the task's row;
 * the row is written only when that changes it. Per object instance: a restarted object starts
 * with nothing written (so its first status is written again), and deferred rows not yet written
 * are lost with the instance (timeline rows only, never the task's state, which the object keeps
 * in its storage).
 */
export class TimelineWriter {
  private pending: TaskStepRow[] = [];
  private pendingUpdate: TaskUpdate = {};
  private written: TaskUpdate | undefined;

  constructor(private readonly append: AppendSteps) {}

  /** Whether this writer wrote the task's row yet (or was told what it says). */
  knowsRow(): boolean {
    return this.written !== undefined;
  }

  /** Takes what another writer is known to have written to the task's row as written here. */
  assumeWritten(row: TaskUpdate): void {
    this.written ??= row;
  }

  /** Records `step` now or with the next one. @throws what `append` throws (the rows are kept for the next try) */
  async record(
    step: string,
    update: TaskUpdate,
    detail: Record<string, unknown> | undefined,
    now = Date.now(),
  ): Promise<void> {
    this.pending.push({ step, at: now, detail });
    this.pendingUpdate = mergeUpdates(this.pendingUpdate, update);
    if (isDeferredStep(step, detail)) return;
    const rows = this.pending;
    const owed = this.pendingUpdate;
    this.pending = [];
    this.pendingUpdate = {};
    const change = taskRowChange(this.written, owed);
    try {
      await this.append(rows, change);
    } catch (e) {
      this.pending = [...rows, ...this.pending];
      this.pendingUpdate = mergeUpdates(owed, this.pendingUpdate);
      throw e;
    }
    if (change) this.written = mergeUpdates(this.written ?? {}, change);
  }
}

/** `later` over `earlier`, field by field; a field `later` leaves out keeps `earlier`'s value. */
function mergeUpdates(earlier: TaskUpdate, later: TaskUpdate): TaskUpdate {
  const merged = { ...earlier };
  if (later.status !== undefined) merged.status = later.status;
  if (later.txHash !== undefined) merged.txHash = later.txHash;
  if (later.error !== undefined) merged.error = later.error;
  return merged;
}

/**
 * Whether the task counts this node's own signature for its service: this node's run then
 * recorded the task as signed before handing the signature over (consume-triggers.ts).
 * False when the node holds no key for the service (it went away).
 */
export async function holdsOwnSignature(
  db: Db,
  mnemonic: string,
  state: Pick<AggregationState, "target" | "signatures">,
): Promise<boolean> {
  let own: string;
  try {
    own = deriveServiceSigner(mnemonic, await signingKeyIndex(db, state.target.serviceId)).address;
  } catch {
    return false;
  }
  return Object.keys(state.signatures).some((signer) => signer.toLowerCase() === own.toLowerCase());
}
