import { eq, sql, type SQL } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import type { Db } from "./client";
import { seenEvents, tasks, taskSteps } from "./schema";

export type TaskStatus = (typeof tasks.$inferSelect)["status"];

/**
 * Creates or updates a task and appends a step to its timeline, in one batch. A landed task keeps
 * its status and transaction hash: steps recorded later (this node's own run of the trigger
 * finishing after a peer landed the result, a failed final attempt) only add to the timeline.
 */
export async function recordTaskStep(
  db: Db,
  task: { eventId: string; serviceId: string; workflowId: string },
  step: string,
  update: { status?: TaskStatus; txHash?: string; error?: string } = {},
  detail?: Record<string, unknown>,
  now = Date.now(),
): Promise<void> {
  await db.batch([
    db
      .insert(tasks)
      .values({ ...task, status: update.status ?? "executing", txHash: update.txHash, error: update.error, createdAt: now, updatedAt: now })
      .onConflictDoUpdate({
        target: tasks.eventId,
        set: {
          ...(update.status !== undefined ? { status: unlessLanded(tasks.status) } : {}),
          ...(update.txHash !== undefined ? { txHash: unlessLanded(tasks.txHash) } : {}),
          ...(update.error !== undefined ? { error: unlessLanded(tasks.error) } : {}),
          updatedAt: now,
        },
      }),
    db.insert(taskSteps).values({
      eventId: task.eventId,
      step,
      at: now,
      detail: detail ? JSON.stringify(detail, (_, v) => (typeof v === "bigint" ? v.toString() : v)) : null,
    }),
  ]);
}

/** An upsert's new value for a column, except on a landed task, which keeps the value it has. */
function unlessLanded(column: SQLiteColumn): SQL {
  return sql`CASE WHEN ${tasks.status} = 'landed' THEN ${column} ELSE excluded.${sql.identifier(column.name)} END`;
}

export async function getTaskWithSteps(db: Db, eventId: string) {
  const task = await db.query.tasks.findFirst({ where: eq(tasks.eventId, eventId) });
  if (!task) return undefined;
  const steps = await db.query.taskSteps.findMany({
    where: eq(taskSteps.eventId, eventId),
    orderBy: (s, { asc }) => [asc(s.at), asc(s.id)],
  });
  return { ...task, steps: steps.map((s) => ({ step: s.step, at: s.at, detail: s.detail ? JSON.parse(s.detail) : undefined })) };
}

/**
 * Claims an event for processing. Returns "claimed" the first time, "done" when it was finished,
 * and "in-flight" when another delivery holds it (a redelivery of our own message may take it over).
 */
export async function claimEvent(db: Db, eventKey: string, isRedelivery: boolean, now = Date.now()) {
  const inserted = await db
    .insert(seenEvents)
    .values({ eventKey, seenAt: now })
    .onConflictDoNothing()
    .returning({ key: seenEvents.eventKey });
  if (inserted.length > 0) return "claimed" as const;
  const row = await db.query.seenEvents.findFirst({ where: eq(seenEvents.eventKey, eventKey) });
  if (row?.doneAt) return "done" as const;
  return isRedelivery ? ("claimed" as const) : ("in-flight" as const);
}

export async function markEventDone(db: Db, eventKey: string, now = Date.now()) {
  await db.update(seenEvents).set({ doneAt: now }).where(eq(seenEvents.eventKey, eventKey));
}
