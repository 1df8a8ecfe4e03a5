import { env, SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { openDb } from "../../src/db/client";
import { chainCursors, seenEvents } from "../../src/db/schema";
import { recordTaskStep } from "../../src/db/tasks";
import { emptyNodeStorage } from "./empty-node";

// Fixed ids and digests, or counts over the whole node: start from an empty D1 and R2 (empty-node.ts).
beforeAll(emptyNodeStorage);

const task = (n: number) => ({
  eventId: `0x${String(n).padStart(40, "0")}`,
  serviceId: "ab".repeat(32),
  workflowId: "default",
});

describe("GET /metrics", () => {
  it("derives Prometheus text from D1: triggers, executions, histograms, submissions, cursors", async () => {
    const db = openDb(env.DB);
    await db.insert(seenEvents).values([1, 2, 3].map((n) => ({ eventKey: `k${n}`, seenAt: 1 })));
    await db.insert(chainCursors).values({ chain: "evm:31337", nextBlock: 42, updatedAt: 1 });
    // Task 1: executed in 12 ms, quorum 300 ms later, landed. Task 2: executed in 2 s, submission failed.
    await recordTaskStep(db, task(1), "executed", { status: "signed" }, { duration_ms: 12 }, 1_000);
    await recordTaskStep(db, task(1), "quorum_reached", { status: "signed" }, {}, 1_300);
    await recordTaskStep(db, task(1), "tx_sent", { status: "submitted" }, {}, 1_400);
    await recordTaskStep(db, task(1), "landed", { status: "landed" }, {}, 1_500);
    await recordTaskStep(db, task(2), "executed", { status: "signed" }, { duration_ms: 2_000 }, 5_000);
    await recordTaskStep(db, task(2), "quorum_reached", { status: "signed" }, {}, 11_000);
    await recordTaskStep(db, task(2), "submit_failed", { status: "failed", error: "x" }, {}, 11_100);

    const res = await SELF.fetch("http://node/metrics");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain; version=0.0.4");
    const text = await res.text();
    const lines = new Set(text.trim().split("\n"));
    for (const line of [
      "# TYPE wavs_triggers_total counter",
      "wavs_triggers_total 3",
      'wavs_executions_total{result="ok"} 2',
      'wavs_executions_total{result="failed"} 0',
      "# TYPE wavs_execution_seconds histogram",
      'wavs_execution_seconds_bucket{le="0.01"} 0',
      'wavs_execution_seconds_bucket{le="0.025"} 1',
      'wavs_execution_seconds_bucket{le="1"} 1',
      'wavs_execution_seconds_bucket{le="2.5"} 2',
      'wavs_execution_seconds_bucket{le="+Inf"} 2',
      "wavs_execution_seconds_sum 2.012",
      "wavs_execution_seconds_count 2",
      'wavs_submissions_total{result="sent"} 1',
      'wavs_submissions_total{result="landed"} 1',
      'wavs_submissions_total{result="failed"} 1',
      'wavs_quorum_wait_seconds_bucket{le="0.25"} 0',
      'wavs_quorum_wait_seconds_bucket{le="0.5"} 1',
      'wavs_quorum_wait_seconds_bucket{le="10"} 2',
      "wavs_quorum_wait_seconds_sum 6.3",
      'wavs_tasks{status="landed"} 1',
      'wavs_tasks{status="failed"} 1',
      'wavs_chain_cursor_block{chain="evm:31337"} 42',
    ]) {
      expect(lines, line).toContain(line);
    }
    // Every sample line is `name{labels} number`.
    for (const line of lines) if (!line.startsWith("#")) expect(line).toMatch(/^[a-z_]+(\{[^}]*\})? [-+0-9.eInfa]+$/);
  });
});
