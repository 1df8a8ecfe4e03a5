import { openDb } from "../db/client";
import { deadLetters } from "../db/schema";
import { log } from "../log";
import type { TriggerMessage } from "../ingest/trigger-message";
import type { SubmissionMessage } from "./messages";

/** What is kept of a dead letter: which task it was for, never its payload (trigger data, signatures). */
export function summariseDeadLetter(body: unknown): Record<string, string> {
  const m = (body && typeof body === "object" ? body : {}) as Partial<
    Record<keyof TriggerMessage | keyof SubmissionMessage, unknown>
  >;
  const pick = (v: unknown) => (typeof v === "string" ? v.slice(0, 200) : undefined);
  const fields = {
    type: pick(m.type),
    service_id: pick(m.serviceId),
    workflow_id: pick(m.workflowId),
    event_key: pick(m.eventKey),
    event_id: pick(m.eventId),
    peer: pick(m.peer),
  };
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Record<string, string>;
}

/** Dead-letter rows per INSERT: D1 binds at most 100 parameters per statement, 3 per row. */
const DEAD_LETTER_ROWS_PER_STATEMENT = 30;

/**
 * Consumer of the dead-letter queues: records each message that ran out of retries in D1 (what the
 * dead-letter alert and /metrics count), logs it, and acknowledges it.
 * @throws what D1 throws (the batch is then redelivered)
 */
export async function recordDeadLetters(
  batch: MessageBatch<unknown>,
  env: Pick<Env, "DB">,
  now = Date.now(),
): Promise<void> {
  const queue = batch.queue.replace(/-dlq$/, "").replace(/^wavs-edge-/, "");
  const summaries = batch.messages.map((m) => summariseDeadLetter(m.body));
  const rows = summaries.map((summary) => ({ queue, summary: JSON.stringify(summary), at: now }));
  if (rows.length > 0) {
    const db = openDb(env.DB);
    const inserts = [];
    for (let i = 0; i < rows.length; i += DEAD_LETTER_ROWS_PER_STATEMENT) {
      inserts.push(db.insert(deadLetters).values(rows.slice(i, i + DEAD_LETTER_ROWS_PER_STATEMENT)));
    }
    await db.batch(inserts as [(typeof inserts)[number], ...typeof inserts]);
  }
  for (const summary of summaries) log("error", "message dead-lettered", { subsys: "queue", queue, ...summary });
  batch.ackAll();
}
