import { sql } from "drizzle-orm";
import { wholeNumberSetting } from "../util/whole-number-setting";
import type { Db } from "./client";

/** Days kept when RETENTION_DAYS is unset or not a whole number from 1 to 3650. */
export const DEFAULT_RETENTION_DAYS = 14;
/** Rows one DELETE removes at most, and statements per table per run: a run stays short. */
const ROWS_PER_STATEMENT = 500;
const STATEMENTS_PER_TABLE = 4;

/** RETENTION_DAYS as a number of days. */
export function retentionDays(raw: string | undefined): number {
  return wholeNumberSetting(raw, 1, 3650, DEFAULT_RETENTION_DAYS);
}

/**
 * What each table drops once older than the cutoff (ms): finished history only. Seen events go
 * too (a redelivery that old is long past TASK_BURN_SECONDS); upgrades only once settled.
 */
const PRUNES = [
  { table: "task_steps", where: (cutoff: number) => sql`at < ${cutoff}` },
  { table: "tasks", where: (cutoff: number) => sql`updated_at < ${cutoff}` },
  { table: "seen_events", where: (cutoff: number) => sql`seen_at < ${cutoff}` },
  { table: "dropped_events", where: (cutoff: number) => sql`at < ${cutoff}` },
  {
    table: "service_upgrades",
    where: (cutoff: number) => sql`updated_at < ${cutoff} AND status NOT IN ('retrying', 'awaiting_approval')`,
  },
  { table: "dead_letters", where: (cutoff: number) => sql`at < ${cutoff}` },
  {
    table: "alert_notifications",
    where: (cutoff: number) => sql`created_at < ${cutoff} AND (delivered_at IS NOT NULL OR gave_up_at IS NOT NULL)`,
  },
  { table: "alerts", where: (cutoff: number) => sql`resolved_at < ${cutoff}` },
] as const;

/**
 * Deletes tasks, their steps, seen events, dropped events, settled upgrades, dead letters, resolved
 * alerts and their sent notifications older than the retention, in bounded batches (at most
 * ROWS_PER_STATEMENT × STATEMENTS_PER_TABLE rows per table per run; the next run goes on). Rows
 * are found in rowid order, which is insertion order, so the oldest go first and no full scan is
 * needed to fill a batch.
 * @returns rows deleted per table
 * @throws what D1 throws
 */
export async function pruneExpired(db: Db, days: number, now = Date.now()): Promise<Record<string, number>> {
  const cutoff = now - days * 86_400_000;
  const deleted: Record<string, number> = {};
  for (const { table, where } of PRUNES) {
    deleted[table] = 0;
    for (let i = 0; i < STATEMENTS_PER_TABLE; i++) {
      const result = await db.run(
        sql`DELETE FROM ${sql.identifier(table)} WHERE rowid IN (SELECT rowid FROM ${sql.identifier(table)} WHERE ${where(cutoff)} LIMIT ${ROWS_PER_STATEMENT})`,
      );
      deleted[table] += result.meta.changes;
      if (result.meta.changes < ROWS_PER_STATEMENT) break;
    }
  }
  return deleted;
}
