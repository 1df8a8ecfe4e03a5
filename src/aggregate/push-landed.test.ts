import { describe, expect, it } from "vitest";
import { landedNoticeSchema, MAX_LANDED_PER_NOTICE } from "./push-landed";

const task = {
  service_id: "76d41ff256803de151fce2ed99d145cf985af50e6def0809072e9f68932f5d11",
  workflow_id: "default",
  event_id: `0x${"AB".repeat(20)}`,
  chain: "evm:31337",
  handler: `0x${"11".repeat(20)}`,
  tx_hash: `0x${"22".repeat(32)}`,
};

describe("landed notices", () => {
  it("reads a notice, hex lowercased as tasks are named", () => {
    const { tasks } = landedNoticeSchema.parse({ tasks: [task] });
    expect(tasks[0]!.event_id).toBe(`0x${"ab".repeat(20)}`);
  });

  it("bounds a notice: at least one task, at most MAX_LANDED_PER_NOTICE, no unknown fields", () => {
    expect(landedNoticeSchema.safeParse({ tasks: [] }).success).toBe(false);
    expect(landedNoticeSchema.safeParse({ tasks: Array(MAX_LANDED_PER_NOTICE).fill(task) }).success).toBe(true);
    expect(landedNoticeSchema.safeParse({ tasks: Array(MAX_LANDED_PER_NOTICE + 1).fill(task) }).success).toBe(false);
    expect(landedNoticeSchema.safeParse({ tasks: [{ ...task, extra: 1 }] }).success).toBe(false);
  });

  it("refuses a malformed id, chain or hash", () => {
    for (const bad of [
      { service_id: "ab" },
      { workflow_id: "x" },
      { event_id: "0x12" },
      { chain: "cosmos:1" },
      { handler: "0xzz" },
      { tx_hash: `0x${"22".repeat(20)}` },
    ])
      expect(landedNoticeSchema.safeParse({ tasks: [{ ...task, ...bad }] }).success, JSON.stringify(bad)).toBe(false);
  });
});
