import { DurableObject } from "cloudflare:workers";
import { describeError, log } from "../log";
import { runCronTriggers } from "./fire-cron-triggers";
import { pollChains } from "./poll-chains";
import { openDb } from "../db/client";
import { pruneExpired, retentionDays } from "../db/prune-expired";
import { runAlerts } from "../alerts/run-alerts";

/**
 * Shortest interval the alarm accepts. Runs never overlap at any interval (one alarm at a time, and
 * a poll asked for meanwhile joins the one under way); each costs an eth_blockNumber per chain, and
 * an eth_getLogs when the head moved.
 */
export const MIN_POLL_INTERVAL_MS = 100;

/**
 * The poll interval from POLL_INTERVAL_MS, or undefined when unset or 0 (the minute cron polls).
 * @throws Error when it is not a whole number of milliseconds ≥ 1000
 */
export function pollIntervalMs(raw: string | undefined): number | undefined {
  const text = raw?.trim() ?? "";
  if (text === "" || text === "0") return undefined;
  const ms = Number(text);
  if (!Number.isInteger(ms) || ms < MIN_POLL_INTERVAL_MS)
    throw new Error(`POLL_INTERVAL_MS must be 0 or a whole number ≥ ${MIN_POLL_INTERVAL_MS}`);
  return ms;
}

/** When the alarm fires next: after the interval, or at the next cron tick if that is sooner. */
export function nextAlarmAt(now: number, intervalMs: number, nextCronAtMs: number | undefined): number {
  const regular = now + intervalMs;
  return nextCronAtMs !== undefined && nextCronAtMs > now && nextCronAtMs < regular ? nextCronAtMs : regular;
}

/**
 * One for the whole node (name "all"): polls every chain and fires cron workflows from its alarm,
 * every POLL_INTERVAL_MS and at each cron tick, so polling is finer than the minute cron and a
 * seconds cron fires on its second. The minute cron keeps the alarm armed (a lost alarm is re-armed
 * within a minute). Runs never overlap: a Durable Object runs one alarm at a time. The cursors
 * move as in the cron path, only after the events are enqueued.
 */
export class ChainPoller extends DurableObject<Env> {
  /** The poll under way, which a poll asked for meanwhile joins rather than reading the same range again. */
  private polling: Promise<void> | undefined;

  /**
   * Polls every chain once, one run at a time for the node: the cron path comes here too, so a
   * scheduled run that fires while the last is still reading (a slow RPC, a frequent trigger of
   * the scheduled handler) joins it instead of reading and enqueuing the same blocks again.
   */
  poll(): Promise<void> {
    this.polling ??= pollChains(this.env).finally(() => (this.polling = undefined));
    return this.polling;
  }

  /** Arms the alarm unless one is pending; returns when it will fire. */
  async ensureAlarm(): Promise<number | undefined> {
    const interval = pollIntervalMs(this.env.POLL_INTERVAL_MS);
    if (interval === undefined) {
      await this.ctx.storage.deleteAlarm();
      return undefined;
    }
    const pending = await this.ctx.storage.getAlarm();
    if (pending !== null) return pending;
    const at = Date.now();
    await this.ctx.storage.setAlarm(at);
    return at;
  }

  override async alarm(): Promise<void> {
    const interval = pollIntervalMs(this.env.POLL_INTERVAL_MS);
    if (interval === undefined) return;
    try {
      // Both log and swallow their own failures: the alarm is always re-armed below.
      const [, cron] = await Promise.all([this.poll(), runCronTriggers(this.env)]);
      await this.ctx.storage.setAlarm(nextAlarmAt(Date.now(), interval, cron?.nextAtMs));
    } catch (e) {
      log("warn", "poll alarm failed", { subsys: "ingest", error: describeError(e) });
      await this.ctx.storage.setAlarm(Date.now() + interval);
    }
  }
}

/**
 * The scheduled handler's work: with POLL_INTERVAL_MS set, make sure the ChainPoller's alarm is
 * armed (it does the polling); otherwise have the ChainPoller poll once and fire cron workflows here.
 * Then the alerts (src/alerts/run-alerts.ts) are evaluated and sent.
 */
export async function runScheduled(env: Env): Promise<void> {
  const poller = env.CHAIN_POLLER.get(env.CHAIN_POLLER.idFromName("all"));
  const housekeeping = pruneOldRows(env);
  if (pollIntervalMs(env.POLL_INTERVAL_MS) !== undefined) {
    await Promise.all([poller.ensureAlarm(), housekeeping, runAlerts(env)]);
    return;
  }
  await Promise.all([poller.poll(), runCronTriggers(env), housekeeping]);
  // After the poll, so the rules see its heads and balances; bounded, and it never throws.
  await runAlerts(env);
}

/** Housekeeping: history older than RETENTION_DAYS goes, a bounded batch per run; never fails the run. */
async function pruneOldRows(env: Env): Promise<void> {
  try {
    const deleted = await pruneExpired(openDb(env.DB), retentionDays(env.RETENTION_DAYS));
    if (Object.values(deleted).some((n) => n > 0)) log("info", "old rows pruned", { subsys: "ingest", ...deleted });
  } catch (e) {
    log("warn", "pruning old rows failed", { subsys: "ingest", error: describeError(e) });
  }
}
