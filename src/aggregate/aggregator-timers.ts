import { DurableObject } from "cloudflare:workers";
import { openDb } from "../db/client";
import { recordTaskStep } from "../db/tasks";
import { describeError, log } from "../log";
import { findService } from "../service/service-registry";
import { runAggregatorStep, type AuthenticatedSubmission } from "./run-aggregator";
import { isRetryable } from "../util/errors";

interface TimerEntry extends AuthenticatedSubmission {
  /** Unique per scheduling, so a firing timer never deletes the one that replaced it. */
  id: string;
  dueAt: number;
}

/** How soon a timer whose callback failed for a transient reason (RPC, storage) runs again. */
const RETRY_MS = 5_000;

/**
 * One per event id: the aggregator component's timers, stored and driven by the object's alarm.
 * When one is due it calls handle-timer-callback with the submission that asked for it and carries
 * out the actions (see run-aggregator.ts). One timer per signer: a newer one replaces the older,
 * as a newer submission replaces the older in the TaskAggregator. A timer is deleted only after its
 * actions were carried out, so an eviction at any point runs it again (the TaskAggregator dedupes
 * the signature).
 */
export class AggregatorTimers extends DurableObject<Env> {
  /** Stores the timer (replacing the signer's previous one) and wakes up at the earliest. */
  async schedule(timer: AuthenticatedSubmission & { dueAt: number }): Promise<void> {
    const entry: TimerEntry = { ...timer, id: crypto.randomUUID() };
    await this.ctx.storage.put(`timer:${timer.signer.toLowerCase()}`, entry);
    await this.wakeAtEarliest();
  }

  /** The timers waiting, for tests and the dashboard. */
  async list(): Promise<{ signer: string; dueAt: number }[]> {
    const entries = await this.ctx.storage.list<TimerEntry>({ prefix: "timer:" });
    return [...entries.values()].map((e) => ({ signer: e.signer, dueAt: e.dueAt }));
  }

  override async alarm(): Promise<void> {
    const entries = await this.ctx.storage.list<TimerEntry>({ prefix: "timer:" });
    for (const [key, entry] of entries) {
      if (entry.dueAt > Date.now()) continue;
      try {
        await this.fire(entry);
      } catch (e) {
        log("warn", "aggregator timer will retry", {
          subsys: "aggregate",
          event_id: entry.submission.eventId,
          error: describeError(e),
        });
        await this.ctx.storage.put(key, { ...entry, dueAt: Date.now() + RETRY_MS });
        continue;
      }
      // The callback may have scheduled this signer's next timer under the same key: keep that one.
      const current = await this.ctx.storage.get<TimerEntry>(key);
      if (current?.id === entry.id) await this.ctx.storage.delete(key);
    }
    await this.wakeAtEarliest();
  }

  /** Runs the callback; a failure that would fail again is recorded and the timer dropped. */
  private async fire(entry: TimerEntry): Promise<void> {
    const { submission } = entry;
    const db = openDb(this.env.DB);
    const registered = await findService(db, submission.serviceId);
    if (!registered?.service.workflows[submission.workflowId]) return; // the service went away
    try {
      await runAggregatorStep(this.env, registered.service, "handle-timer-callback", entry);
    } catch (e) {
      if (isRetryable(e)) throw e;
      const task = { eventId: submission.eventId, serviceId: submission.serviceId, workflowId: submission.workflowId };
      await recordTaskStep(
        db,
        task,
        "aggregator_failed",
        {},
        { fn: "handle-timer-callback", signer: entry.signer, error: describeError(e) },
      );
      log("error", "aggregator timer callback failed", {
        subsys: "aggregate",
        event_id: submission.eventId,
        error: describeError(e),
      });
    }
  }

  private async wakeAtEarliest(): Promise<void> {
    const entries = await this.ctx.storage.list<TimerEntry>({ prefix: "timer:" });
    const earliest = Math.min(...[...entries.values()].map((e) => e.dueAt));
    if (Number.isFinite(earliest)) await this.ctx.storage.setAlarm(Math.max(earliest, Date.now()));
    else await this.ctx.storage.deleteAlarm();
  }
}
