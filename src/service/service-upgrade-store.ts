import { and, desc, eq, inArray, lte, type SQL } from "drizzle-orm";
import type { Db } from "../db/client";
import { serviceUpgrades } from "../db/schema";

export type ServiceUpgradeRow = typeof serviceUpgrades.$inferSelect;
export type ServiceUpgradeStatus = ServiceUpgradeRow["status"];

/** Statuses still waiting for something (a retry or the operator); a newer upgrade supersedes them. */
export const PENDING_UPGRADE_STATUSES = ["retrying", "awaiting_approval"] as const satisfies ServiceUpgradeStatus[];

/** The upgrade recorded for one ServiceURIUpdated log, if any. */
export async function findUpgradeByEventKey(db: Db, eventKey: string): Promise<ServiceUpgradeRow | undefined> {
  return db.query.serviceUpgrades.findFirst({ where: eq(serviceUpgrades.eventKey, eventKey) });
}

export async function findUpgrade(db: Db, id: number): Promise<ServiceUpgradeRow | undefined> {
  return db.query.serviceUpgrades.findFirst({ where: eq(serviceUpgrades.id, id) });
}

/**
 * Records an upgrade log's outcome; a second record of the same log is ignored.
 * @returns the row's id, or undefined when the log was already recorded
 */
export async function insertUpgrade(db: Db, row: typeof serviceUpgrades.$inferInsert): Promise<number | undefined> {
  const [inserted] = await db
    .insert(serviceUpgrades)
    .values(row)
    .onConflictDoNothing()
    .returning({ id: serviceUpgrades.id });
  return inserted?.id;
}

/** Marks the service's pending upgrades superseded (a newer ServiceURIUpdated arrived). @returns how many */
export async function supersedePendingUpgrades(db: Db, serviceId: string, now: number): Promise<number> {
  const rows = await db
    .update(serviceUpgrades)
    .set({ status: "superseded", json: null, nextAttemptAt: null, updatedAt: now })
    .where(
      and(eq(serviceUpgrades.serviceId, serviceId), inArray(serviceUpgrades.status, [...PENDING_UPGRADE_STATUSES])),
    )
    .returning({ id: serviceUpgrades.id });
  return rows.length;
}

/**
 * Moves an upgrade on, only from the status the caller read (so a row superseded meanwhile stays so).
 * @returns false when the row had left `from`
 */
export async function updateUpgrade(
  db: Db,
  id: number,
  from: ServiceUpgradeStatus,
  set: Partial<Pick<ServiceUpgradeRow, "status" | "json" | "changes" | "attempts" | "nextAttemptAt" | "error">> & {
    updatedAt: number;
  },
): Promise<boolean> {
  const rows = await db
    .update(serviceUpgrades)
    .set(set)
    .where(and(eq(serviceUpgrades.id, id), eq(serviceUpgrades.status, from)))
    .returning({ id: serviceUpgrades.id });
  return rows.length > 0;
}

/** Upgrades whose retry is due, oldest first, at most `limit`. */
export async function dueUpgradeRetries(db: Db, now: number, limit: number): Promise<ServiceUpgradeRow[]> {
  return db
    .select()
    .from(serviceUpgrades)
    .where(and(eq(serviceUpgrades.status, "retrying"), lte(serviceUpgrades.nextAttemptAt, now)))
    .orderBy(serviceUpgrades.nextAttemptAt)
    .limit(limit);
}

/** Recorded upgrades, newest first, optionally of one status or service. */
export async function listUpgrades(
  db: Db,
  filter: { status?: ServiceUpgradeStatus; serviceId?: string; limit: number },
): Promise<ServiceUpgradeRow[]> {
  const where: SQL[] = [];
  if (filter.status) where.push(eq(serviceUpgrades.status, filter.status));
  if (filter.serviceId) where.push(eq(serviceUpgrades.serviceId, filter.serviceId));
  return db
    .select()
    .from(serviceUpgrades)
    .where(and(...where))
    .orderBy(desc(serviceUpgrades.id))
    .limit(filter.limit);
}

/** An upgrade as the API shows it: no stored service JSON, changes as a list. */
export function upgradeView(row: ServiceUpgradeRow) {
  return {
    id: row.id,
    service_id: row.serviceId,
    chain: row.chain,
    manager_address: row.managerAddress,
    uri: row.uri,
    event_key: row.eventKey,
    status: row.status,
    changes: row.changes ? (JSON.parse(row.changes) as string[]) : [],
    attempts: row.attempts,
    next_attempt_at: row.nextAttemptAt,
    error: row.error,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  };
}
