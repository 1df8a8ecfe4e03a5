import { desc, inArray, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { chainCursors, serviceUpgrades, tasks, taskSteps } from "../db/schema";
import { listServices } from "../service/service-registry";
import { sourceDigest } from "../service/service-json";
import { describeSubmit } from "../service/describe-submit";
import type { AggregatorSettings } from "../aggregate/peers";
import { computeStageLatencies, type StageLatency } from "./stage-latency";
import { listAlerts } from "../alerts/alert-store";
import { viewAlert, type AlertView } from "../alerts/alert-view";

export type DashboardData = {
  services: {
    id: string;
    name: string;
    status: string;
    manager: string;
    workflows: { id: string; trigger: string; component: string; submit: string }[];
  }[];
  tasks: {
    eventId: string;
    workflowId: string;
    serviceId: string;
    status: string;
    error: string | null;
    createdAt: number;
    steps: { step: string; at: number }[];
  }[];
  latencies: StageLatency[];
  errors: { step: string; count: number }[];
  statusCounts: { status: string; count: number }[];
  chains: { chain: string; head: number | null; nextBlock: number | null }[];
  /** Upgrades waiting for the operator or a retry, and recent refusals. */
  upgrades: { id: number; serviceId: string; status: string; changes: string[]; error: string | null; at: number }[];
  /** The node's own alerts: open ones, and the last few resolved. */
  alerts: { active: AlertView[]; recent: AlertView[] };
  /** Tasks landed and failed per minute over the last hour, oldest minute first (60 entries). */
  perMinute: { minute: number; landed: number; failed: number }[];
};

const MINUTE = 60_000;
const RECENT_ALERTS = 5;

const RECENT_TASKS = 25;
const LATENCY_WINDOW = 200;
const RECENT_UPGRADES = 10;

/** Everything the dashboard shows, read from D1; chain heads and the node's PEERS come from the caller. */
export async function collectDashboard(
  db: Db,
  heads: { chain: string; head: bigint | null }[],
  aggregation: Pick<AggregatorSettings, "peers">,
): Promise<DashboardData> {
  const now = Date.now();
  const firstMinute = Math.floor(now / MINUTE) * MINUTE - 59 * MINUTE;
  const [registered, recent, window, errorRows, statusRows, cursors, upgradeRows, alertRows, minuteRows] =
    await Promise.all([
      listServices(db),
      db.select().from(tasks).orderBy(desc(tasks.createdAt)).limit(RECENT_TASKS),
      db.select({ eventId: tasks.eventId }).from(tasks).orderBy(desc(tasks.createdAt)).limit(LATENCY_WINDOW),
      db.all<{ step: string; n: number }>(
        sql`SELECT step, count(*) AS n FROM task_steps WHERE step LIKE '%failed' GROUP BY step ORDER BY step`,
      ),
      db.all<{ status: string; n: number }>(
        sql`SELECT status, count(*) AS n FROM tasks GROUP BY status ORDER BY status`,
      ),
      db.select().from(chainCursors),
      db
        .select()
        .from(serviceUpgrades)
        .where(inArray(serviceUpgrades.status, ["awaiting_approval", "retrying", "refused", "gave_up"]))
        .orderBy(desc(serviceUpgrades.id))
        .limit(RECENT_UPGRADES),
      listAlerts(db, RECENT_ALERTS),
      // A task's last update is when it landed or failed (both are final).
      db.all<{ m: number; status: string; n: number }>(
        // The minute inline: D1 binds JS numbers as REAL, which would make the division fractional.
        sql`SELECT (updated_at / ${sql.raw(String(MINUTE))}) * ${sql.raw(String(MINUTE))} AS m, status, count(*) AS n FROM tasks
          WHERE updated_at >= ${firstMinute} AND status IN ('landed', 'failed') GROUP BY m, status`,
      ),
    ]);
  const windowIds = window.map((t) => t.eventId);
  const steps = windowIds.length
    ? await db.select().from(taskSteps).where(inArray(taskSteps.eventId, windowIds)).orderBy(taskSteps.at, taskSteps.id)
    : [];
  const cursorOf = new Map(cursors.map((c) => [c.chain, c.nextBlock]));
  const chainKeys = [...new Set([...heads.map((h) => h.chain), ...cursorOf.keys()])].sort();
  const headOf = new Map(heads.map((h) => [h.chain, h.head]));

  return {
    services: registered.map(({ id, service }) => ({
      id,
      name: service.name,
      status: service.status,
      manager: `${service.manager.evm.chain} ${service.manager.evm.address}`,
      workflows: Object.entries(service.workflows).map(([wid, wf]) => ({
        id: wid,
        trigger: typeof wf.trigger === "string" ? wf.trigger : Object.keys(wf.trigger)[0]!,
        component: sourceDigest(wf.component.source),
        submit: describeSubmit(wf.submit, aggregation),
      })),
    })),
    tasks: recent.map((t) => ({
      eventId: t.eventId,
      workflowId: t.workflowId,
      serviceId: t.serviceId,
      status: t.status,
      error: t.error,
      createdAt: t.createdAt,
      steps: steps.filter((s) => s.eventId === t.eventId).map((s) => ({ step: s.step, at: s.at })),
    })),
    latencies: computeStageLatencies(steps),
    errors: errorRows.map((r) => ({ step: r.step, count: Number(r.n) })),
    statusCounts: statusRows.map((r) => ({ status: r.status, count: Number(r.n) })),
    chains: chainKeys.map((chain) => {
      const head = headOf.get(chain);
      return { chain, head: head == null ? null : Number(head), nextBlock: cursorOf.get(chain) ?? null };
    }),
    upgrades: upgradeRows.map((u) => ({
      id: u.id,
      serviceId: u.serviceId,
      status: u.status,
      changes: u.changes ? (JSON.parse(u.changes) as string[]) : [],
      error: u.error,
      at: u.updatedAt,
    })),
    alerts: { active: alertRows.active.map(viewAlert), recent: alertRows.recent.map(viewAlert) },
    perMinute: Array.from({ length: 60 }, (_, i) => {
      const minute = firstMinute + i * MINUTE;
      const count = (status: string) =>
        Number(minuteRows.find((r) => Number(r.m) === minute && r.status === status)?.n ?? 0);
      return { minute, landed: count("landed"), failed: count("failed") };
    }),
  };
}
