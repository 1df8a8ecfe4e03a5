import { sql } from "drizzle-orm";
import { openDb, type Db } from "../db/client";
import { cronCursors, services } from "../db/schema";
import { describeError, log } from "../log";
import type { TriggerMessage } from "./trigger-message";
import { parseServiceJson } from "../service/service-json";
import { sendTriggerMessages } from "./enqueue-events";
import { buildCronMessage, dueCronTime, listTimerWorkflows, nextCronTime } from "./timer-triggers";

export interface CronRunResult {
  enqueued: number;
  /** When (ms since the epoch) the earliest cron workflow fires next; undefined when none will. */
  nextAtMs: number | undefined;
}

/**
 * Fires every cron workflow whose schedule had a tick since it was last handled (at most one
 * message per workflow per run: missed ticks collapse into the latest), then moves each workflow's
 * cursor to `nowMs`, after the messages are enqueued. A workflow seen for the first time counts from
 * its service's registration.
 * @throws what D1 or the queue throws; cursors are then left as they were and the next run retries
 */
export async function fireCronTriggers(
  db: Db,
  queue: Queue<TriggerMessage>,
  nowMs = Date.now(),
): Promise<CronRunResult> {
  const rows = await db.select().from(services);
  const registeredAt = new Map(rows.map((r) => [r.id, r.registeredAt]));
  const { crons } = listTimerWorkflows(
    rows.map((r) => ({ id: r.id, service: parseServiceJson(r.json), pausedByOperator: r.pausedByOperator })),
  );
  if (crons.length === 0) return { enqueued: 0, nextAtMs: undefined };

  const cursorRows = await db.select().from(cronCursors);
  const cursors = new Map(cursorRows.map((c) => [`${c.serviceId}/${c.workflowId}`, BigInt(c.afterNs)]));
  const nowNs = BigInt(nowMs) * 1_000_000n;
  const messages: TriggerMessage[] = [];
  let next: bigint | undefined;
  for (const wf of crons) {
    const after =
      cursors.get(`${wf.serviceId}/${wf.workflowId}`) ?? BigInt(registeredAt.get(wf.serviceId)!) * 1_000_000n;
    const due = dueCronTime(wf, after, nowNs);
    if (due !== undefined) messages.push(buildCronMessage(wf, due, nowMs));
    const upcoming = nextCronTime(wf, nowNs);
    if (upcoming !== undefined && (next === undefined || upcoming < next)) next = upcoming;
  }

  await sendTriggerMessages(queue, messages, { db, source: "cron" });
  // One statement per workflow, in one batch: D1 caps bound parameters per statement.
  const updates = crons.map((wf) =>
    db
      .insert(cronCursors)
      .values({ serviceId: wf.serviceId, workflowId: wf.workflowId, afterNs: nowNs.toString(), updatedAt: nowMs })
      .onConflictDoUpdate({
        target: [cronCursors.serviceId, cronCursors.workflowId],
        set: { afterNs: nowNs.toString(), updatedAt: nowMs },
        // Never move a cursor backwards (two overlapping runs).
        setWhere: sql`CAST(${cronCursors.afterNs} AS INTEGER) < CAST(${nowNs.toString()} AS INTEGER)`,
      }),
  );
  await db.batch(updates as [(typeof updates)[number], ...typeof updates]);
  if (messages.length > 0) log("info", "cron triggers enqueued", { subsys: "ingest", count: messages.length });
  return { enqueued: messages.length, nextAtMs: next === undefined ? undefined : Number(next / 1_000_000n) };
}

/** The scheduled handler's cron step: fires due cron workflows; a failure is logged and retried next run. */
export async function runCronTriggers(env: Env, nowMs = Date.now()): Promise<CronRunResult | undefined> {
  try {
    return await fireCronTriggers(openDb(env.DB), env.TRIGGERS, nowMs);
  } catch (e) {
    log("warn", "cron triggers failed", { subsys: "ingest", error: describeError(e) });
    return undefined;
  }
}
