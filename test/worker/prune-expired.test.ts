/**
 * The scheduled handler's housekeeping: history older than the retention goes, in bounded batches,
 * and nothing younger or still pending is touched. Real D1.
 */
import { env } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { openDb } from "../../src/db/client";
import { pruneExpired, retentionDays } from "../../src/db/prune-expired";
import { recordTaskStep } from "../../src/db/tasks";
import { emptyNodeStorage } from "./empty-node";

// Fixed ids and digests, or counts over the whole node: start from an empty D1 and R2 (empty-node.ts).
beforeAll(emptyNodeStorage);

const DAY = 86_400_000;

describe("pruneExpired", () => {
  it("deletes old tasks, steps, seen events, settled upgrades, dead letters and resolved alerts, a bounded batch per run", async () => {
    const db = openDb(env.DB);
    const now = Date.now();
    const old = now - 20 * DAY;
    const task = (id: string) => ({ eventId: id, serviceId: "a".repeat(64), workflowId: "w" });
    await recordTaskStep(db, task(`0x${"01".repeat(20)}`), "old", { status: "landed" }, undefined, old);
    await recordTaskStep(db, task(`0x${"02".repeat(20)}`), "fresh", { status: "landed" }, undefined, now);
    // 2500 old steps: more than one run takes.
    await db.run(sql`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2500)
      INSERT INTO task_steps (event_id, step, at) SELECT ${`0x${"01".repeat(20)}`}, 'bulk', ${old} FROM n`);
    await db.run(sql`INSERT INTO seen_events (event_key, seen_at) VALUES ('old-key', ${old}), ('fresh-key', ${now})`);
    for (const [key, status] of [
      ["u-applied", "applied"],
      ["u-waiting", "awaiting_approval"],
      ["u-retrying", "retrying"],
    ]) {
      await db.run(sql`INSERT INTO service_upgrades (service_id, chain, manager_address, uri, event_key, status, created_at, updated_at)
        VALUES (${"b".repeat(64)}, 'evm:1', '0x00', 'https://x', ${key}, ${status}, ${old}, ${old})`);
    }

    await db.run(
      sql`INSERT INTO dead_letters (queue, summary, at) VALUES ('triggers', '{}', ${old}), ('triggers', '{}', ${now})`,
    );
    // An old resolved alert with its sent notification goes; an old alert still open and its pending notification stay.
    await db.run(sql`INSERT INTO alerts (id, key, rule, severity, summary, labels, started_at, seen_at, resolved_at) VALUES
      (1, 'a', 'dead_letters', 'warning', 's', '{}', ${old}, ${old}, ${old}), (2, 'b', 'dead_letters', 'warning', 's', '{}', ${old}, ${now}, NULL)`);
    await db.run(sql`INSERT INTO alert_notifications (alert_id, kind, sink, created_at, delivered_at) VALUES
      (1, 'firing', 'slack', ${old}, ${old}), (2, 'firing', 'slack', ${old}, NULL)`);

    const first = await pruneExpired(db, 14, now);
    expect(first).toMatchObject({
      task_steps: 2000,
      tasks: 1,
      seen_events: 1,
      service_upgrades: 1,
      dead_letters: 1,
      alerts: 1,
      alert_notifications: 1,
    });
    const second = await pruneExpired(db, 14, now);
    expect(second.task_steps).toBe(501);
    expect((await pruneExpired(db, 14, now)).task_steps).toBe(0);

    const count = async (q: ReturnType<typeof sql>) => Number((await db.get<{ n: number }>(q))!.n);
    expect(await count(sql`SELECT count(*) AS n FROM tasks`)).toBe(1);
    expect(await count(sql`SELECT count(*) AS n FROM task_steps WHERE step = 'fresh'`)).toBe(1);
    expect(await count(sql`SELECT count(*) AS n FROM seen_events WHERE event_key = 'fresh-key'`)).toBe(1);
    expect(
      (await db.all<{ status: string }>(sql`SELECT status FROM service_upgrades ORDER BY status`)).map((r) => r.status),
    ).toEqual(["awaiting_approval", "retrying"]);
    expect(await count(sql`SELECT count(*) AS n FROM alerts WHERE id = 2`)).toBe(1);
    expect(await count(sql`SELECT count(*) AS n FROM alert_notifications WHERE alert_id = 2`)).toBe(1);
  });

  it("reads RETENTION_DAYS, falling back to 14 days", () => {
    expect(retentionDays("30")).toBe(30);
    expect(retentionDays(undefined)).toBe(14);
    expect(retentionDays("0")).toBe(14);
    expect(retentionDays("two weeks")).toBe(14);
  });
});
