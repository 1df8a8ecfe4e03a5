import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { openDb } from "./client";
import { readIsolateCounters } from "../metrics/isolate-counters";
import { appendTaskSteps, getTaskWithSteps, recordTaskStep } from "./tasks";

const HASH = `0x${"cd".repeat(32)}`;
// event ids of this run only: other files share the runtime and its D1
const RUN = crypto.randomUUID().replaceAll("-", "").slice(0, 8);
let n = 0;
const newTask = () => ({ eventId: `0x${RUN}${(++n).toString(16).padStart(32, "0")}`, serviceId: "s", workflowId: "w" });

describe("recordTaskStep", () => {
  it("records a peer's landing with its transaction hash, on a new task and on one this node signed", async () => {
    const db = openDb(env.DB);
    const fresh = newTask();
    await recordTaskStep(db, fresh, "landed_by_peer", { status: "landed", txHash: HASH }, { tx_hash: HASH });
    expect(await getTaskWithSteps(db, fresh.eventId)).toMatchObject({ status: "landed", txHash: HASH });
    const signed = newTask();
    await recordTaskStep(db, signed, "executed", { status: "signed" }, {});
    await recordTaskStep(db, signed, "quorum_reached", { status: "signed" }, {});
    await recordTaskStep(db, signed, "landed_by_peer", { status: "landed", txHash: HASH }, { tx_hash: HASH });
    expect(await getTaskWithSteps(db, signed.eventId)).toMatchObject({ status: "landed", txHash: HASH });
  });

  it("keeps a landed task landed, with its hash, whatever steps come after", async () => {
    const db = openDb(env.DB);
    const task = newTask();
    await recordTaskStep(db, task, "landed_by_peer", { status: "landed", txHash: HASH }, { tx_hash: HASH });
    // This node's own run finishing late, a stale replacement, a failed last attempt.
    await recordTaskStep(db, task, "executed", { status: "signed" }, {});
    await recordTaskStep(db, task, "tx_replaced", { txHash: `0x${"ee".repeat(32)}` }, {});
    await recordTaskStep(db, task, "execution_failed", { status: "failed", error: "boom" }, {});
    const row = await getTaskWithSteps(db, task.eventId);
    expect(row).toMatchObject({ status: "landed", txHash: HASH, error: null });
    expect(row!.steps.map((s) => s.step)).toEqual(["landed_by_peer", "executed", "tx_replaced", "execution_failed"]);
  });

  it("moves any other status on, and a failed task to landed when a peer lands it", async () => {
    const db = openDb(env.DB);
    const task = newTask();
    await recordTaskStep(db, task, "tx_sent", { status: "submitted", txHash: HASH }, {});
    await recordTaskStep(db, task, "submit_failed", { status: "failed", error: "reverted" }, {});
    expect(await getTaskWithSteps(db, task.eventId)).toMatchObject({
      status: "failed",
      txHash: HASH,
      error: "reverted",
    });
    const other = `0x${"ab".repeat(32)}`;
    await recordTaskStep(db, task, "landed_by_peer", { status: "landed", txHash: other }, {});
    expect(await getTaskWithSteps(db, task.eventId)).toMatchObject({ status: "landed", txHash: other });
  });
});

describe("appendTaskSteps", () => {
  it("writes many rows in one statement each with its own time, and leaves the task's row alone without an update", async () => {
    const db = openDb(env.DB);
    const task = newTask();
    await recordTaskStep(db, task, "executed", { status: "signed" }, {}, 1_000);
    const before = readIsolateCounters().d1_statements ?? 0;
    const rows = Array.from({ length: 30 }, (_, i) => ({ step: `s${i}`, at: 2_000 + i, detail: { i } }));
    await appendTaskSteps(db, task, rows, undefined, 9_000);
    // 30 rows: two INSERTs (25 rows each at most), no tasks upsert.
    expect((readIsolateCounters().d1_statements ?? 0) - before).toBe(2);
    const read = await getTaskWithSteps(db, task.eventId);
    expect(read).toMatchObject({ status: "signed", updatedAt: 1_000 });
    expect(read!.steps.map((s) => s.at)).toEqual([1_000, ...rows.map((r) => r.at)]);
    expect(read!.steps.at(-1)).toMatchObject({ step: "s29", detail: { i: 29 } });
  });

  it("creates the task's row with the rows when given an update", async () => {
    const db = openDb(env.DB);
    const task = newTask();
    // Landed, not submitted: test/worker/alerts.test.ts shares this D1 and alerts on old submitted tasks.
    await appendTaskSteps(db, task, [{ step: "landed", at: 5 }], { status: "landed", txHash: HASH }, 6);
    expect(await getTaskWithSteps(db, task.eventId)).toMatchObject({ status: "landed", txHash: HASH, createdAt: 6 });
  });
});
