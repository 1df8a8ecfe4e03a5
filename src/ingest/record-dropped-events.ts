import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import type { droppedEvents } from "../db/schema";

export type DroppedEventRow = typeof droppedEvents.$inferInsert;

/** The reason's code: its text up to the first colon ("message_too_large: about …" → "message_too_large"). */
export function reasonCode(reason: string): string {
  const colon = reason.indexOf(":");
  return colon < 0 ? reason : reason.slice(0, colon);
}

/**
 * Records refused events in dropped events, once per (event key, reason code): the same log read
 * again (a re-polled range, a webhook redelivery, both paths) adds no second row. The event key
 * starts with chain:blockHash:txHash:logIndex, so a re-included log (new block hash) is a new row.
 * @returns how many rows were new
 * @throws what D1 throws
 */
export async function recordDroppedEvents(db: Db, rows: readonly DroppedEventRow[]): Promise<number> {
  let added = 0;
  // One statement per row, each atomic on its own (D1 runs one statement at a time), so two
  // concurrent records of one event still leave one row.
  for (const row of rows) {
    const code = reasonCode(row.reason);
    const result = await db.run(sql`
      INSERT INTO dropped_events (source, chain, event_key, reason, at)
      SELECT ${row.source}, ${row.chain}, ${row.eventKey}, ${row.reason}, ${row.at}
      WHERE NOT EXISTS (
        SELECT 1 FROM dropped_events
        WHERE event_key = ${row.eventKey} AND (reason = ${code} OR substr(reason, 1, ${code.length + 1}) = ${`${code}:`})
      )`);
    added += result.meta.changes;
  }
  return added;
}
