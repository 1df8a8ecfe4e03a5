import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { counter, gauge, type Histogram, type MetricFamily } from "./render-prometheus";

/** Execution time bounds in seconds (components run in milliseconds; cold starts take longer). */
export const EXECUTION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Quorum wait bounds in seconds (from a task's first signature to quorum). */
export const QUORUM_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

export type ChainHead = { chain: string; head: bigint | null };

/**
 * Every metric, computed from D1 (tasks, task_steps, seen_events, chain_cursors, services), so the
 * numbers survive restarts and agree across isolates. Chain heads come from the caller (RPC).
 */
export async function collectMetrics(db: Db, heads: ChainHead[]): Promise<MetricFamily[]> {
  const [stepCounts, statusCounts, triggers, services, cursors, execution, quorum, upgrades] = await Promise.all([
    db.all<{ step: string; n: number }>(sql`SELECT step, count(*) AS n FROM task_steps GROUP BY step`),
    db.all<{ status: string; n: number }>(sql`SELECT status, count(*) AS n FROM tasks GROUP BY status`),
    db.get<{ n: number }>(sql`SELECT count(*) AS n FROM seen_events`),
    db.get<{ n: number }>(sql`SELECT count(*) AS n FROM services`),
    db.all<{ chain: string; next_block: number }>(sql`SELECT chain, next_block FROM chain_cursors ORDER BY chain`),
    histogramOf(
      db,
      sql`SELECT CAST(json_extract(detail, '$.duration_ms') AS REAL) / 1000.0 AS v FROM task_steps
          WHERE step = 'executed' AND json_extract(detail, '$.duration_ms') IS NOT NULL`,
      EXECUTION_BUCKETS,
    ),
    histogramOf(
      db,
      sql`SELECT (q.at - (SELECT min(e.at) FROM task_steps e WHERE e.event_id = q.event_id AND e.step = 'executed')) / 1000.0 AS v
          FROM task_steps q WHERE q.step = 'quorum_reached'
          AND EXISTS (SELECT 1 FROM task_steps e WHERE e.event_id = q.event_id AND e.step = 'executed')`,
      QUORUM_BUCKETS,
    ),
    db.all<{ status: string; n: number }>(sql`SELECT status, count(*) AS n FROM service_upgrades GROUP BY status`),
  ]);
  const steps = new Map(stepCounts.map((r) => [r.step, Number(r.n)]));
  const step = (name: string) => steps.get(name) ?? 0;
  const cursorOf = new Map(cursors.map((c) => [c.chain, Number(c.next_block)]));
  const chains = [...new Set([...heads.map((h) => h.chain), ...cursorOf.keys()])].sort();
  const headOf = new Map(heads.map((h) => [h.chain, h.head]));

  return [
    counter("wavs_triggers_total", "Chain events and triggers turned into tasks (deduplicated).", [
      { value: Number(triggers?.n ?? 0) },
    ]),
    counter("wavs_executions_total", "Component executions by result.", [
      { labels: { result: "ok" }, value: step("executed") },
      { labels: { result: "failed" }, value: step("execution_failed") },
    ]),
    {
      name: "wavs_execution_seconds",
      help: "Operator component execution time.",
      type: "histogram",
      histograms: [execution],
    },
    counter("wavs_submissions_total", "Transactions carrying signed envelopes, by outcome.", [
      { labels: { result: "sent" }, value: step("tx_sent") },
      { labels: { result: "landed" }, value: step("landed") },
      { labels: { result: "failed" }, value: step("submit_failed") },
    ]),
    {
      name: "wavs_quorum_wait_seconds",
      help: "Time from a task's first signature to quorum.",
      type: "histogram",
      histograms: [quorum],
    },
    gauge(
      "wavs_tasks",
      "Tasks by current status.",
      ["executing", "signed", "submitted", "landed", "failed"].map((status) => ({
        labels: { status },
        value: Number(statusCounts.find((r) => r.status === status)?.n ?? 0),
      })),
    ),
    gauge("wavs_services", "Registered services.", [{ value: Number(services?.n ?? 0) }]),
    gauge(
      "wavs_service_upgrades",
      "Service upgrades seen on chain, by status (refused and gave_up: the service kept its version).",
      ["applied", "awaiting_approval", "retrying", "refused", "superseded", "gave_up"].map((status) => ({
        labels: { status },
        value: Number(upgrades.find((r) => r.status === status)?.n ?? 0),
      })),
    ),
    gauge(
      "wavs_chain_cursor_block",
      "Next block the poller reads, per chain.",
      chains.filter((c) => cursorOf.has(c)).map((chain) => ({ labels: { chain }, value: cursorOf.get(chain)! })),
    ),
    gauge(
      "wavs_chain_head_block",
      "Latest block the chain's RPC reports.",
      chains
        .filter((c) => headOf.get(c) != null)
        .map((chain) => ({ labels: { chain }, value: Number(headOf.get(chain)) })),
    ),
    gauge(
      "wavs_chain_up",
      "1 when the chain's RPC answered, else 0.",
      chains
        .filter((c) => headOf.has(c))
        .map((chain) => ({ labels: { chain }, value: headOf.get(chain) != null ? 1 : 0 })),
    ),
    gauge(
      "wavs_chain_lag_blocks",
      "Blocks between the chain head and the poller's cursor.",
      chains
        .filter((c) => headOf.get(c) != null && cursorOf.has(c))
        .map((chain) => ({
          labels: { chain },
          value: Math.max(0, Number(headOf.get(chain)!) - cursorOf.get(chain)! + 1),
        })),
    ),
  ];
}

/** A histogram aggregated inside SQLite: one row back, however many observations. */
async function histogramOf(db: Db, values: ReturnType<typeof sql>, bounds: number[]): Promise<Histogram> {
  const columns = bounds.map((b, i) => sql.raw(`sum(CASE WHEN v <= ${b} THEN 1 ELSE 0 END) AS b${i}`));
  const row = await db.get<Record<string, number | null>>(
    sql`SELECT count(*) AS n, coalesce(sum(v), 0) AS s, ${sql.join(columns, sql`, `)} FROM (${values})`,
  );
  return {
    buckets: bounds.map((le, i) => ({ le, count: Number(row?.[`b${i}`] ?? 0) })),
    count: Number(row?.n ?? 0),
    sum: Number(row?.s ?? 0),
  };
}
