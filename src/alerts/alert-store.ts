import { and, desc, eq, inArray, isNotNull, isNull, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { alertNotifications, alerts, leases } from "../db/schema";
import type { AlertCondition } from "./alert-rules";
import type { SinkKind } from "./alert-sinks";

export type AlertRow = typeof alerts.$inferSelect;
export type NotificationRow = typeof alertNotifications.$inferSelect;

/**
 * Takes the named lease until `now + ms` unless another holder's lease is still running, so
 * overlapping scheduled runs (several isolates, a slow run) evaluate the alerts one at a time.
 * @returns whether this caller holds it
 */
export async function acquireLease(db: Db, name: string, ms: number, now = Date.now()): Promise<boolean> {
  const rows = await db
    .insert(leases)
    .values({ name, heldUntil: now + ms })
    .onConflictDoUpdate({
      target: leases.name,
      set: { heldUntil: now + ms },
      setWhere: sql`${leases.heldUntil} < ${now}`,
    })
    .returning({ name: leases.name });
  return rows.length > 0;
}

/** Gives the lease back (only when it still ends when this holder set it to). */
export async function releaseLease(db: Db, name: string, heldUntil: number): Promise<void> {
  await db
    .update(leases)
    .set({ heldUntil: 0 })
    .where(and(eq(leases.name, name), eq(leases.heldUntil, heldUntil)));
}

export async function listOpenAlerts(db: Db): Promise<AlertRow[]> {
  return db.select().from(alerts).where(isNull(alerts.resolvedAt)).orderBy(alerts.id);
}

/** Open alerts, then the most recently resolved ones (at most `recent`). */
export async function listAlerts(db: Db, recent: number): Promise<{ active: AlertRow[]; recent: AlertRow[] }> {
  const [active, resolved] = await Promise.all([
    listOpenAlerts(db),
    db
      .select()
      .from(alerts)
      .where(isNotNull(alerts.resolvedAt))
      .orderBy(desc(alerts.resolvedAt), desc(alerts.id))
      .limit(recent),
  ]);
  return { active, recent: resolved };
}

/** A notification row per sink for the alert's transition, inserted only if the transition just happened. */
function notificationsFor(
  d1: D1Database,
  alertFilter: string,
  filterArgs: unknown[],
  kind: "firing" | "resolved",
  sinks: SinkKind[],
  now: number,
) {
  return sinks.map((sink) =>
    d1
      .prepare(
        `INSERT INTO alert_notifications (alert_id, kind, sink, created_at, attempts) SELECT id, ?, ?, ?, 0 FROM alerts WHERE ${alertFilter}
         AND NOT EXISTS (SELECT 1 FROM alert_notifications n WHERE n.alert_id = alerts.id AND n.kind = ? AND n.sink = ?)`,
      )
      .bind(kind, sink, now, ...filterArgs, kind, sink),
  );
}

/**
 * Opens an alert for the condition and queues its "firing" notifications, in one transaction (a D1
 * batch: drizzle cannot batch raw SQL with parameters). The partial unique index on open keys makes
 * a second opener a no-op, so a condition raises once.
 * @returns whether this call opened it
 */
export async function openAlert(db: Db, c: AlertCondition, sinks: SinkKind[], now = Date.now()): Promise<boolean> {
  const d1 = db.$client;
  const insert = d1
    .prepare(
      `INSERT INTO alerts (key, rule, severity, summary, labels, started_at, seen_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    )
    .bind(c.key, c.rule, c.severity, c.summary, JSON.stringify(c.labels), now, now);
  const justOpened = "key = ? AND resolved_at IS NULL AND started_at = ?";
  const [inserted] = await d1.batch([insert, ...notificationsFor(d1, justOpened, [c.key, now], "firing", sinks, now)]);
  return (inserted?.meta.changes ?? 0) > 0;
}

/** Resolves an open alert and queues its "resolved" notifications, in one transaction. @returns whether this call resolved it */
export async function resolveAlert(db: Db, alertId: number, sinks: SinkKind[], now = Date.now()): Promise<boolean> {
  const d1 = db.$client;
  const update = d1
    .prepare(`UPDATE alerts SET resolved_at = ? WHERE id = ? AND resolved_at IS NULL`)
    .bind(now, alertId);
  const justResolved = "id = ? AND resolved_at = ?";
  const [updated] = await d1.batch([
    update,
    ...notificationsFor(d1, justResolved, [alertId, now], "resolved", sinks, now),
  ]);
  return (updated?.meta.changes ?? 0) > 0;
}

/** Marks open alerts as seen now, with the summary the latest evaluation gave (e.g. the balance now). */
export async function touchAlerts(db: Db, seen: { id: number; summary: string }[], now = Date.now()): Promise<void> {
  if (seen.length === 0) return;
  const [first, ...rest] = seen.map((a) =>
    db.update(alerts).set({ seenAt: now, summary: a.summary }).where(eq(alerts.id, a.id)),
  );
  await db.batch([first!, ...rest]);
}

/**
 * Claims up to `limit` undelivered notifications (oldest first, none another sender holds) until
 * `now + holdMs`, counting the attempt, with their alerts.
 */
export async function claimNotifications(
  db: Db,
  limit: number,
  holdMs: number,
  now = Date.now(),
): Promise<(NotificationRow & { alert: AlertRow })[]> {
  const claimed = await db.all<Record<string, unknown>>(
    sql`UPDATE alert_notifications SET claimed_until = ${now + holdMs}, attempts = attempts + 1
        WHERE id IN (SELECT id FROM alert_notifications WHERE delivered_at IS NULL AND gave_up_at IS NULL
          AND (claimed_until IS NULL OR claimed_until < ${now}) ORDER BY id LIMIT ${limit})
        RETURNING id, alert_id, kind, sink, created_at, claimed_until, attempts, delivered_at, gave_up_at, last_error`,
  );
  if (claimed.length === 0) return [];
  const rows = await db
    .select()
    .from(alerts)
    .where(inArray(alerts.id, [...new Set(claimed.map((n) => Number(n.alert_id)))]));
  const alertOf = new Map(rows.map((a) => [a.id, a]));
  return claimed
    .map((n) => ({
      id: Number(n.id),
      alertId: Number(n.alert_id),
      kind: n.kind as NotificationRow["kind"],
      sink: n.sink as NotificationRow["sink"],
      createdAt: Number(n.created_at),
      claimedUntil: Number(n.claimed_until),
      attempts: Number(n.attempts),
      deliveredAt: null,
      gaveUpAt: null,
      lastError: (n.last_error as string | null) ?? null,
      alert: alertOf.get(Number(n.alert_id))!,
    }))
    .filter((n) => n.alert !== undefined)
    .sort((a, b) => a.id - b.id);
}

/** Records a delivery attempt's outcome; a failure (or a skip) releases the claim for the next run, or gives up. */
export async function recordDelivery(
  db: Db,
  id: number,
  outcome: { ok: true } | { ok: false; error: string; giveUp: boolean } | { skipped: true },
  now = Date.now(),
): Promise<void> {
  if ("skipped" in outcome) {
    // Claimed but not tried (an earlier one to the same sink failed): the attempt does not count.
    await db
      .update(alertNotifications)
      .set({ claimedUntil: null, attempts: sql`${alertNotifications.attempts} - 1` })
      .where(eq(alertNotifications.id, id));
    return;
  }
  const set = outcome.ok
    ? { deliveredAt: now, claimedUntil: null, lastError: null }
    : { claimedUntil: null, lastError: outcome.error, ...(outcome.giveUp ? { gaveUpAt: now } : {}) };
  await db.update(alertNotifications).set(set).where(eq(alertNotifications.id, id));
}

/** Per sink: notifications delivered, pending, given up, and failed attempts (for /metrics and GET /alerts). */
export async function countNotifications(
  db: Db,
): Promise<{ sink: string; delivered: number; pending: number; gaveUp: number; failedAttempts: number }[]> {
  const rows = await db.all<{ sink: string; delivered: number; pending: number; gave_up: number; attempts: number }>(
    sql`SELECT sink,
          sum(CASE WHEN delivered_at IS NOT NULL THEN 1 ELSE 0 END) AS delivered,
          sum(CASE WHEN delivered_at IS NULL AND gave_up_at IS NULL THEN 1 ELSE 0 END) AS pending,
          sum(CASE WHEN gave_up_at IS NOT NULL THEN 1 ELSE 0 END) AS gave_up,
          sum(attempts) AS attempts
        FROM alert_notifications GROUP BY sink ORDER BY sink`,
  );
  return rows.map((r) => ({
    sink: r.sink,
    delivered: Number(r.delivered),
    pending: Number(r.pending),
    gaveUp: Number(r.gave_up),
    failedAttempts: Number(r.attempts) - Number(r.delivered),
  }));
}
