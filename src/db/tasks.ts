import { and, asc, eq, sql, type SQL } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import type { Db } from "./client";
import { seenEvents, tasks, taskSteps } from "./schema";

export type TaskStatus = (typeof tasks.$inferSelect)["status"];

/** What a step changes in the task's row (`tasks`); a field left out keeps its value. */
export interface TaskUpdate {
  status?: TaskStatus;
  txHash?: string;
  error?: string;
}

/** One row of a task's timeline, with the time it happened. */
export interface TaskStepRow {
  step: string;
  at: number;
  detail?: Record<string, unknown>;
}

/** Timeline rows per INSERT: D1 binds at most 100 parameters per statement, 4 per row. */
const STEP_ROWS_PER_STATEMENT = 25;

/**
 * Creates or updates a task and appends a step to its timeline, in one batch. A landed task keeps
 * its status and transaction hash: steps recorded later (this node's own run of the trigger
 * finishing after a peer landed the result, a failed final attempt) only add to the timeline.
 */
export async function recordTaskStep(
  db: Db,
  task: { eventId: string; serviceId: string; workflowId: string },
  step: string,
  update: TaskUpdate = {},
  detail?: Record<string, unknown>,
  now = Date.now(),
): Promise<void> {
  await appendTaskSteps(db, task, [{ step, at: now, detail }], update, now);
}

/**
 * Appends steps to a task's timeline, each with its own time, in one INSERT (a few for many
 * rows), and when `update` is given creates or updates the task's row (as recordTaskStep) in the
 * same batch: one D1 transaction and round trip. Without `update` the task's row is left alone
 * (it may not exist yet: the steps are then read once it does).
 */
export async function appendTaskSteps(
  db: Db,
  task: { eventId: string; serviceId: string; workflowId: string },
  steps: TaskStepRow[],
  update?: TaskUpdate,
  now = Date.now(),
): Promise<void> {
  const rows = steps.map((s) => ({
    eventId: task.eventId,
    step: s.step,
    at: s.at,
    detail: s.detail ? JSON.stringify(s.detail, (_, v) => (typeof v === "bigint" ? v.toString() : v)) : null,
  }));
  const inserts = [];
  for (let i = 0; i < rows.length; i += STEP_ROWS_PER_STATEMENT) {
    inserts.push(db.insert(taskSteps).values(rows.slice(i, i + STEP_ROWS_PER_STATEMENT)));
  }
  const statements = update ? [upsertTask(db, task, update, now), ...inserts] : inserts;
  const [first, ...rest] = statements;
  if (!first) return;
  await db.batch([first, ...rest]);
}

function upsertTask(
  db: Db,
  task: { eventId: string; serviceId: string; workflowId: string },
  update: TaskUpdate,
  now: number,
) {
  return db
    .insert(tasks)
    .values({
      ...task,
      status: update.status ?? "executing",
      txHash: update.txHash,
      error: update.error,
      createdAt: now,
      updatedAt: now,
    })
    .onConflictDoUpdate({
      target: tasks.eventId,
      set: {
        ...(update.status !== undefined ? { status: unlessLanded(tasks.status) } : {}),
        ...(update.txHash !== undefined ? { txHash: unlessLanded(tasks.txHash) } : {}),
        ...(update.error !== undefined ? { error: unlessLanded(tasks.error) } : {}),
        updatedAt: now,
      },
    });
}

/** An upsert's new value for a column, except on a landed task, which keeps the value it has. */
function unlessLanded(column: SQLiteColumn): SQL {
  return sql`CASE WHEN ${tasks.status} = 'landed' THEN ${column} ELSE excluded.${sql.identifier(column.name)} END`;
}

/** Steps one GET /tasks/{id} answers when not told (at most MAX_STEPS_PAGE). */
export const DEFAULT_STEPS_PAGE = 500;
export const MAX_STEPS_PAGE = 1000;

/**
 * A task and one page of its timeline, in time order: `limit` steps after the step with id
 * `stepsAfter` (from the start when absent); `nextStepsAfter` is set when more follow.
 */
export async function getTaskWithSteps(db: Db, eventId: string, page: { stepsAfter?: number; limit?: number } = {}) {
  const task = await db.query.tasks.findFirst({ where: eq(tasks.eventId, eventId) });
  if (!task) return undefined;
  const limit = page.limit ?? DEFAULT_STEPS_PAGE;
  // Keyset on (at, id): the cursor step's own time, so steps recorded out of order stay in place.
  const after =
    page.stepsAfter === undefined
      ? undefined
      : sql`(${taskSteps.at}, ${taskSteps.id}) > (SELECT at, id FROM task_steps WHERE id = ${page.stepsAfter})`;
  const rows = await db
    .select()
    .from(taskSteps)
    .where(after ? and(eq(taskSteps.eventId, eventId), after) : eq(taskSteps.eventId, eventId))
    .orderBy(asc(taskSteps.at), asc(taskSteps.id))
    .limit(limit + 1);
  const steps = rows.slice(0, limit);
  return {
    ...task,
    steps: steps.map((s) => ({ step: s.step, at: s.at, detail: s.detail ? JSON.parse(s.detail) : undefined })),
    ...(rows.length > limit ? { nextStepsAfter: steps.at(-1)!.id } : {}),
  };
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
