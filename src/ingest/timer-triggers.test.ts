import { describe, expect, it } from "vitest";
import { parseServiceJson } from "../service/service-json";
import { parseCronSchedule } from "../service/cron-schedule";
import { blockIntervalHeights, buildBlockIntervalMessages, dueCronTime, nextCronTime } from "./timer-triggers";

const S = 1_000_000_000n;
const sec = (iso: string) => BigInt(Date.parse(iso)) * 1_000_000n;

describe("block-interval heights (WAVS's alignment)", () => {
  it("fires where (h − start) % n == 0, from start on, however the range is cut", () => {
    const wf = { nBlocks: 3, startBlock: 5n, endBlock: null };
    expect(blockIntervalHeights(wf, 1n, 15n)).toEqual([5n, 8n, 11n, 14n]);
    // Cut into ranges the poller might read: the same heights, each once.
    expect([
      ...blockIntervalHeights(wf, 1n, 6n),
      ...blockIntervalHeights(wf, 7n, 9n),
      ...blockIntervalHeights(wf, 10n, 15n),
    ]).toEqual([5n, 8n, 11n, 14n]);
  });

  it("stops at end_block, fires once when start == end, and anchors at 0 without a start", () => {
    expect(blockIntervalHeights({ nBlocks: 4, startBlock: 2n, endBlock: 10n }, 0n, 100n)).toEqual([2n, 6n, 10n]);
    expect(blockIntervalHeights({ nBlocks: 7, startBlock: 9n, endBlock: 9n }, 0n, 100n)).toEqual([9n]);
    expect(blockIntervalHeights({ nBlocks: 7, startBlock: 9n, endBlock: 9n }, 10n, 100n)).toEqual([]);
    expect(blockIntervalHeights({ nBlocks: 10, startBlock: null, endBlock: null }, 95n, 121n)).toEqual([
      100n,
      110n,
      120n,
    ]);
  });

  it("builds one message per height and workflow on the chain, keyed by height", () => {
    const wfs = [
      { serviceId: "a".repeat(64), workflowId: "every-2", chain: "evm:1", nBlocks: 2, startBlock: 1n, endBlock: null },
      {
        serviceId: "a".repeat(64),
        workflowId: "other-chain",
        chain: "evm:2",
        nBlocks: 1,
        startBlock: null,
        endBlock: null,
      },
    ];
    const msgs = buildBlockIntervalMessages("evm:1", 1n, 4n, wfs, 0);
    expect(msgs.map((m) => m.data)).toEqual([
      { BlockInterval: { chain: "evm:1", block_height: 1n } },
      { BlockInterval: { chain: "evm:1", block_height: 3n } },
    ]);
    expect(msgs[0]!.eventKey).toBe(`evm:1:block:1:${"a".repeat(64)}:every-2`);
  });
});

describe("cron due times", () => {
  const every5 = { schedule: parseCronSchedule("*/5 * * * * *"), startTime: null, endTime: null };

  it("fires with the scheduled time, not the clock, and collapses missed ticks into the latest", () => {
    expect(dueCronTime(every5, sec("2026-11-23T10:00:01Z"), sec("2026-11-23T10:00:07.300Z"))).toBe(
      sec("2026-11-23T10:00:05Z"),
    );
    // Thirty seconds missed: one tick, the latest.
    expect(dueCronTime(every5, sec("2026-11-23T10:00:00Z"), sec("2026-11-23T10:00:31Z"))).toBe(
      sec("2026-11-23T10:00:30Z"),
    );
    // A tick already handled (at or before the cursor) does not fire again.
    expect(dueCronTime(every5, sec("2026-11-23T10:00:05Z"), sec("2026-11-23T10:00:09Z"))).toBeUndefined();
  });

  it("keeps within start_time and end_time (nanoseconds)", () => {
    const bounded = { ...every5, startTime: sec("2026-11-23T10:00:06Z"), endTime: sec("2026-11-23T10:00:12Z") };
    expect(dueCronTime(bounded, sec("2026-11-23T10:00:00Z"), sec("2026-11-23T10:00:08Z"))).toBeUndefined();
    expect(dueCronTime(bounded, sec("2026-11-23T10:00:08Z"), sec("2026-11-23T10:00:11Z"))).toBe(
      sec("2026-11-23T10:00:10Z"),
    );
    expect(dueCronTime(bounded, sec("2026-11-23T10:00:11Z"), sec("2026-11-23T10:01:00Z"))).toBeUndefined();
    expect(nextCronTime(bounded, sec("2026-11-23T10:00:00Z"))).toBe(sec("2026-11-23T10:00:10Z"));
    expect(nextCronTime(bounded, sec("2026-11-23T10:00:10Z"))).toBeUndefined();
    expect(nextCronTime(every5, sec("2026-11-23T10:00:10Z") + S / 2n)).toBe(sec("2026-11-23T10:00:15Z"));
  });
});

describe("timer triggers in service JSON", () => {
  const service = (trigger: unknown) =>
    JSON.stringify({
      name: "t",
      workflows: {
        wf1: {
          trigger,
          component: {
            source: { digest: "a".repeat(64) },
            permissions: {},
            fuel_limit: null,
            time_limit_seconds: null,
            config: {},
            env_keys: [],
          },
          submit: "none",
        },
      },
      status: "active",
      manager: { evm: { chain: "evm:1", address: `0x${"11".repeat(20)}` } },
    });

  it("refuses a bad cron schedule, a start after the end, and block 0 as a start", () => {
    expect(() =>
      parseServiceJson(service({ cron: { schedule: "* * * * *", start_time: null, end_time: null } })),
    ).toThrow(/6 or 7 fields/);
    expect(() => parseServiceJson(service({ cron: { schedule: "* * * * * *", start_time: 5, end_time: 4 } }))).toThrow(
      /start_time is after end_time/,
    );
    expect(() =>
      parseServiceJson(service({ block_interval: { chain: "evm:1", n_blocks: 2, start_block: 9, end_block: 3 } })),
    ).toThrow(/start_block is after end_block/);
    expect(() =>
      parseServiceJson(service({ block_interval: { chain: "evm:1", n_blocks: 2, start_block: 0, end_block: null } })),
    ).toThrow(/at least 1/);
    expect(
      parseServiceJson(service({ block_interval: { chain: "evm:1", n_blocks: 2, start_block: 3, end_block: 3 } }))
        .workflows.wf1!.trigger,
    ).toEqual({
      block_interval: { chain: "evm:1", n_blocks: 2, start_block: 3n, end_block: 3n },
    });
  });
});
