import { readChainHeads } from "../chain/chain-heads";
import { nodeChains } from "../config";
import { openDb, type Db } from "../db/client";
import { describeError, log } from "../log";
import { evaluateAlertRules, planAlertTransitions } from "./alert-rules";
import { parseAlertSettings, type AlertSettings, type AlertVars } from "./alert-settings";
import {
  alertHeaders,
  configuredSinks,
  formatAlertBody,
  sendAlert,
  type AlertSinkSecrets,
  type Sink,
  type SinkKind,
} from "./alert-sinks";
import {
  acquireLease,
  claimNotifications,
  listOpenAlerts,
  openAlert,
  recordDelivery,
  releaseLease,
  resolveAlert,
  touchAlerts,
} from "./alert-store";
import { collectAlertSnapshot } from "./collect-alert-snapshot";

/** A run holds the lease at most this long (a crashed run's lease lapses). */
const LEASE_MS = 60_000;
/** Notifications sent per run at most; the rest wait for the next run. */
const MAX_DELIVERIES_PER_RUN = 20;
/** A sink gets this long per notification; a hanging sink costs a run one timeout, then waits for the next. */
export const SINK_TIMEOUT_MS = 5_000;
/** Attempts (one per run) before a notification is given up. */
export const MAX_DELIVERY_ATTEMPTS = 10;

type AlertEnv = Env & AlertVars & AlertSinkSecrets;

let parsed: { raw: string; settings: AlertSettings; sinks: Sink[] } | undefined;

/** Settings and sinks, parsed once per isolate (again when a var changes); problems are logged then. */
function alertConfig(env: AlertEnv): { settings: AlertSettings; sinks: Sink[] } {
  const vars: AlertVars & AlertSinkSecrets = {
    ALERT_LOW_BALANCE_WEI: env.ALERT_LOW_BALANCE_WEI,
    ALERT_TX_STUCK_SECONDS: env.ALERT_TX_STUCK_SECONDS,
    ALERT_CHAIN_LAG_BLOCKS: env.ALERT_CHAIN_LAG_BLOCKS,
    ALERT_FAILURE_RATE: env.ALERT_FAILURE_RATE,
    ALERT_FAILURE_MIN_TASKS: env.ALERT_FAILURE_MIN_TASKS,
    ALERT_DEAD_LETTERS_MAX: env.ALERT_DEAD_LETTERS_MAX,
    ALERT_WINDOW_SECONDS: env.ALERT_WINDOW_SECONDS,
    ALERT_WEBHOOK_URL: env.ALERT_WEBHOOK_URL,
    ALERT_WEBHOOK_SECRET: env.ALERT_WEBHOOK_SECRET,
    ALERT_SLACK_WEBHOOK_URL: env.ALERT_SLACK_WEBHOOK_URL,
    ALERT_DISCORD_WEBHOOK_URL: env.ALERT_DISCORD_WEBHOOK_URL,
  };
  const raw = JSON.stringify(vars); // kept in memory only, to notice a change; never logged
  if (parsed?.raw !== raw) {
    const { settings, problems } = parseAlertSettings(vars);
    const sinks = configuredSinks(vars);
    for (const p of problems)
      log("error", `bad ${p.name}, using its default`, { subsys: "alerts", problem: p.message });
    for (const p of sinks.problems) log("error", "alert sink not configured", { subsys: "alerts", problem: p });
    parsed = { raw, settings, sinks: sinks.sinks };
  }
  return parsed;
}

/** The sink kinds alerts are sent to (for GET /alerts: which sinks are on, never where they point). */
export function configuredSinkKinds(env: Env): SinkKind[] {
  return alertConfig(env as AlertEnv).sinks.map((s) => s.kind);
}

/** The alert window in ms (for /metrics' per-service gauges, which cover the same window). */
export function alertWindowMs(env: Env): number {
  return alertConfig(env as AlertEnv).settings.windowMs;
}

/**
 * The scheduled handler's alert work: evaluate the rules, open and resolve alerts (each transition
 * queues one notification per sink), then send what is pending. One run at a time across isolates
 * (a D1 lease); never throws: a failure is logged and the next run tries again.
 */
export async function runAlerts(env: Env, opts: { now?: () => number; sinkTimeoutMs?: number } = {}): Promise<void> {
  const now = opts.now ?? (() => Date.now());
  const db = openDb(env.DB);
  const heldUntil = now() + LEASE_MS;
  let held = false;
  try {
    held = await acquireLease(db, "alerts", LEASE_MS, heldUntil - LEASE_MS);
    if (!held) return;
    const { settings, sinks } = alertConfig(env as AlertEnv);
    await evaluateAlerts(
      env,
      db,
      settings,
      sinks.map((s) => s.kind),
      now(),
    );
    await deliverNotifications(db, sinks, env.NODE_URL || null, now, opts.sinkTimeoutMs ?? SINK_TIMEOUT_MS);
  } catch (e) {
    log("warn", "alert run failed", { subsys: "alerts", error: describeError(e) });
  } finally {
    if (held) await releaseLease(db, "alerts", heldUntil).catch(() => {});
  }
}

async function evaluateAlerts(
  env: Env,
  db: Db,
  settings: AlertSettings,
  sinks: SinkKind[],
  now: number,
): Promise<void> {
  const [chains, heads] = await Promise.all([nodeChains(env), readChainHeads(env)]);
  const snapshot = await collectAlertSnapshot(db, chains, heads, settings.windowMs, now);
  const holding = evaluateAlertRules(snapshot, settings);
  const open = await listOpenAlerts(db);
  const { start, clear } = planAlertTransitions(open, holding);
  for (const c of start) {
    if (await openAlert(db, c, sinks, now))
      log("warn", "alert firing", { subsys: "alerts", key: c.key, summary: c.summary });
  }
  for (const a of clear) {
    if (await resolveAlert(db, a.id, sinks, now)) log("info", "alert resolved", { subsys: "alerts", key: a.key });
  }
  const summaryOf = new Map(holding.map((c) => [c.key, c.summary]));
  await touchAlerts(
    db,
    open.filter((a) => summaryOf.has(a.key)).map((a) => ({ id: a.id, summary: summaryOf.get(a.key)! })),
    now,
  );
}

/**
 * Sends pending notifications: sinks in parallel, each sink's in order, a sink's first failure
 * ending its turn (so its later notifications never overtake the failed one).
 */
async function deliverNotifications(
  db: Db,
  sinks: Sink[],
  node: string | null,
  now: () => number,
  timeoutMs: number,
): Promise<void> {
  const claimed = await claimNotifications(db, MAX_DELIVERIES_PER_RUN, timeoutMs * MAX_DELIVERIES_PER_RUN, now());
  const sinkOf = new Map(sinks.map((s) => [s.kind, s]));
  await Promise.all(
    [...new Set(claimed.map((n) => n.sink))].map(async (kind) => {
      const sink = sinkOf.get(kind);
      let blocked = false;
      for (const n of claimed.filter((c) => c.sink === kind)) {
        if (!sink) {
          // The secret was removed since the notification was queued: nowhere to send it.
          await recordDelivery(
            db,
            n.id,
            { ok: false, error: `the ${kind} sink is no longer configured`, giveUp: true },
            now(),
          );
          continue;
        }
        if (blocked) {
          await recordDelivery(db, n.id, { skipped: true }, now());
          continue;
        }
        const sentAt = now();
        const body = formatAlertBody(
          kind,
          {
            id: n.alert.id,
            kind: n.kind,
            key: n.alert.key,
            rule: n.alert.rule,
            severity: n.alert.severity,
            summary: n.alert.summary,
            labels: JSON.parse(n.alert.labels) as Record<string, string>,
            startedAt: n.alert.startedAt,
            resolvedAt: n.alert.resolvedAt,
            node,
          },
          sentAt,
        );
        const result = await sendAlert(sink, body, await alertHeaders(sink, body, `alert-${n.id}`, sentAt), timeoutMs);
        if (result.ok) {
          await recordDelivery(db, n.id, { ok: true }, now());
        } else {
          blocked = true;
          const giveUp = n.attempts >= MAX_DELIVERY_ATTEMPTS;
          log("warn", giveUp ? "alert notification given up" : "alert notification failed; retried next run", {
            subsys: "alerts",
            sink: kind,
            notification: n.id,
            attempts: n.attempts,
            error: result.error,
          });
          await recordDelivery(db, n.id, { ...result, giveUp }, now());
        }
      }
    }),
  );
}
