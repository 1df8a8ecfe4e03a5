import { sql } from "drizzle-orm";
import type { AlertSnapshot } from "../alerts/alert-rules";
import { countNotifications } from "../alerts/alert-store";
import type { Db } from "../db/client";
import { counter, gauge, type MetricFamily } from "./render-prometheus";

/** What the alert-related gauges read besides the alert snapshot. */
export type AlertMetricInputs = {
  snapshot: AlertSnapshot;
  windowMs: number;
  /** Events a consumer claimed and has not finished (running or waiting for a retry). */
  inProgress: number;
  deadLettersTotal: { queue: string; count: number }[];
  firing: { rule: string; count: number }[];
  notifications: Awaited<ReturnType<typeof countNotifications>>;
};

/** Reads the inputs that are not in the snapshot. */
export async function readAlertMetricInputs(
  db: Db,
  snapshot: AlertSnapshot,
  windowMs: number,
): Promise<AlertMetricInputs> {
  const [inProgress, dead, firing, notifications] = await Promise.all([
    db.get<{ n: number }>(sql`SELECT count(*) AS n FROM seen_events WHERE done_at IS NULL`),
    db.all<{ queue: string; n: number }>(
      sql`SELECT queue, count(*) AS n FROM dead_letters GROUP BY queue ORDER BY queue`,
    ),
    db.all<{ rule: string; n: number }>(
      sql`SELECT rule, count(*) AS n FROM alerts WHERE resolved_at IS NULL GROUP BY rule ORDER BY rule`,
    ),
    countNotifications(db),
  ]);
  return {
    snapshot,
    windowMs,
    inProgress: Number(inProgress?.n ?? 0),
    deadLettersTotal: dead.map((d) => ({ queue: d.queue, count: Number(d.n) })),
    firing: firing.map((f) => ({ rule: f.rule, count: Number(f.n) })),
    notifications,
  };
}

/**
 * The gauges an operator alerts on (docs/alerts.md has Prometheus rules over them), from the same
 * snapshot the node's own alert rules read (pure).
 */
export function alertMetricFamilies(m: AlertMetricInputs): MetricFamily[] {
  const s = m.snapshot;
  const window = `${Math.round(m.windowMs / 1000)} s (ALERT_WINDOW_SECONDS)`;
  const oldest = s.pendingTxs.reduce<number | undefined>(
    (o, t) => (o === undefined || t.sentAt < o ? t.sentAt : o),
    undefined,
  );
  return [
    gauge(
      "wavs_payer_balance_wei",
      "The paying key's balance per chain, as the poller last read it (once per poll).",
      s.balances.map((b) => ({ labels: { chain: b.chain, address: b.address }, value: Number(b.wei) })),
    ),
    gauge(
      "wavs_payer_balance_read_timestamp_seconds",
      "When the poller last read the paying key's balance, per chain (Unix time).",
      s.balances.map((b) => ({ labels: { chain: b.chain }, value: b.readAt / 1000 })),
    ),
    gauge("wavs_transactions_pending", "Transactions sent and not yet confirmed (tasks in status submitted).", [
      { value: s.pendingTxs.length },
    ]),
    gauge(
      "wavs_transaction_pending_oldest_age_seconds",
      "Age of the oldest unconfirmed transaction; 0 when none is pending.",
      [{ value: oldest === undefined ? 0 : Math.max(0, (s.now - oldest) / 1000) }],
    ),
    gauge(
      "wavs_trigger_events_in_progress",
      "Trigger events a consumer claimed and has not finished (running, or waiting for a retry).",
      [{ value: m.inProgress }],
    ),
    counter(
      "wavs_dead_letters_total",
      "Messages that ran out of retries, per queue (kept RETENTION_DAYS).",
      ["triggers", "submissions"].map((queue) => ({
        labels: { queue },
        value: m.deadLettersTotal.find((d) => d.queue === queue)?.count ?? 0,
      })),
    ),
    gauge(
      "wavs_service_tasks_recent",
      `Tasks started per service in the last ${window}.`,
      s.serviceTasks.map((t) => ({ labels: { service_id: t.serviceId }, value: t.total })),
    ),
    gauge(
      "wavs_service_tasks_failed_recent",
      `Tasks started per service in the last ${window} that failed.`,
      s.serviceTasks.map((t) => ({ labels: { service_id: t.serviceId }, value: t.failed })),
    ),
    gauge(
      "wavs_service_upgrade_refused",
      "1 for each service whose latest upgrade was refused or given up (it runs its previous version).",
      s.refusedUpgrades.map((u) => ({ labels: { service_id: u.serviceId, status: u.status }, value: 1 })),
    ),
    gauge(
      "wavs_alerts_firing",
      "The node's own alerts open now, per rule.",
      m.firing.map((f) => ({ labels: { rule: f.rule }, value: f.count })),
    ),
    gauge(
      "wavs_alert_notifications",
      "Alert notifications per sink and state (pending, delivered, given_up).",
      m.notifications.flatMap((n) => [
        { labels: { sink: n.sink, state: "pending" }, value: n.pending },
        { labels: { sink: n.sink, state: "delivered" }, value: n.delivered },
        { labels: { sink: n.sink, state: "given_up" }, value: n.gaveUp },
      ]),
    ),
    counter(
      "wavs_alert_delivery_failures_total",
      "Failed attempts to deliver an alert notification, per sink.",
      m.notifications.map((n) => ({ labels: { sink: n.sink }, value: n.failedAttempts })),
    ),
  ];
}
