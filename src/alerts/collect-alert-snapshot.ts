import { sql } from "drizzle-orm";
import type { ChainSettings } from "../config";
import type { Db } from "../db/client";
import type { AlertSnapshot } from "./alert-rules";

/** Pending transactions looked at per run at most: the rule needs the oldest, not all of them. */
const MAX_PENDING = 500;

/**
 * Reads what the alert rules look at from D1 (a handful of aggregate queries, bounded however big
 * the tables grow); the node's chains and their heads come from the caller.
 */
export async function collectAlertSnapshot(
  db: Db,
  chains: Pick<ChainSettings, "key" | "confirmations">[],
  heads: { chain: string; head: bigint | null }[],
  windowMs: number,
  now = Date.now(),
): Promise<AlertSnapshot> {
  const since = now - windowMs;
  const [cursors, balances, pending, serviceTasks, deadLetters, refused] = await Promise.all([
    db.all<{ chain: string; next_block: number }>(sql`SELECT chain, next_block FROM chain_cursors`),
    db.all<{ chain: string; address: string; balance_wei: string; read_at: number }>(
      sql`SELECT chain, address, balance_wei, read_at FROM payer_balances`,
    ),
    db.all<{ event_id: string; service_id: string; sent_at: number }>(
      sql`SELECT t.event_id, t.service_id,
            coalesce((SELECT min(s.at) FROM task_steps s WHERE s.event_id = t.event_id AND s.step = 'tx_sent'), t.updated_at) AS sent_at
          FROM tasks t WHERE t.status = 'submitted' ORDER BY t.updated_at LIMIT ${MAX_PENDING}`,
    ),
    db.all<{ service_id: string; total: number; failed: number }>(
      sql`SELECT service_id, count(*) AS total, sum(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS failed
          FROM tasks WHERE created_at >= ${since} GROUP BY service_id ORDER BY service_id`,
    ),
    db.all<{ queue: string; n: number }>(
      sql`SELECT queue, count(*) AS n FROM dead_letters WHERE at >= ${since} GROUP BY queue ORDER BY queue`,
    ),
    db.all<{ service_id: string; id: number; status: string }>(
      sql`SELECT u.service_id, u.id, u.status FROM service_upgrades u
          WHERE u.id = (SELECT max(v.id) FROM service_upgrades v WHERE v.service_id = u.service_id)
          AND u.status IN ('refused', 'gave_up') ORDER BY u.service_id`,
    ),
  ]);
  const cursorOf = new Map(cursors.map((c) => [c.chain, Number(c.next_block)]));
  const headOf = new Map(heads.flatMap((h) => (h.head === null ? [] : [[h.chain, Number(h.head)] as const])));
  return {
    now,
    chains: chains.map((c) => ({
      chain: c.key,
      head: headOf.get(c.key) ?? null,
      nextBlock: cursorOf.get(c.key) ?? null,
      confirmations: c.confirmations,
    })),
    balances: balances
      .filter((b) => chains.some((c) => c.key === b.chain)) // a chain removed since is not alerted on
      .map((b) => ({ chain: b.chain, address: b.address, wei: BigInt(b.balance_wei), readAt: Number(b.read_at) })),
    pendingTxs: pending.map((p) => ({ eventId: p.event_id, serviceId: p.service_id, sentAt: Number(p.sent_at) })),
    serviceTasks: serviceTasks.map((t) => ({
      serviceId: t.service_id,
      total: Number(t.total),
      failed: Number(t.failed),
    })),
    deadLetters: deadLetters.map((d) => ({ queue: d.queue, count: Number(d.n) })),
    refusedUpgrades: refused.map((u) => ({ serviceId: u.service_id, upgradeId: Number(u.id), status: u.status })),
  };
}
