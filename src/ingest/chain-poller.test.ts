import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { type ChainPoller, nextAlarmAt, pollIntervalMs } from "./chain-poller";

describe("ChainPoller settings", () => {
  it("reads POLL_INTERVAL_MS: unset or 0 is off, at least 100 ms otherwise", () => {
    expect(pollIntervalMs(undefined)).toBeUndefined();
    expect(pollIntervalMs("0")).toBeUndefined();
    expect(pollIntervalMs(" 5000 ")).toBe(5000);
    expect(pollIntervalMs("250")).toBe(250);
    expect(() => pollIntervalMs("50")).toThrow(/≥ 100/);
    expect(() => pollIntervalMs("2s")).toThrow(/POLL_INTERVAL_MS/);
  });

  it("wakes at the next cron tick when it comes before the interval is over", () => {
    expect(nextAlarmAt(10_000, 5_000, undefined)).toBe(15_000);
    expect(nextAlarmAt(10_000, 5_000, 12_000)).toBe(12_000);
    expect(nextAlarmAt(10_000, 5_000, 60_000)).toBe(15_000);
    expect(nextAlarmAt(10_000, 5_000, 9_000)).toBe(15_000);
  });

  it("arms no alarm while POLL_INTERVAL_MS is 0 (the minute cron polls)", async () => {
    const stub = env.CHAIN_POLLER.get(env.CHAIN_POLLER.idFromName("all"));
    expect(await stub.ensureAlarm()).toBeUndefined();
    await runInDurableObject(stub, async (_instance: ChainPoller, state) => {
      expect(await state.storage.getAlarm()).toBeNull();
    });
  });

  it("runs one poll at a time: a poll asked for while one runs joins it, the next one after it starts anew", async () => {
    const stub = env.CHAIN_POLLER.get(env.CHAIN_POLLER.idFromName("all"));
    await runInDurableObject(stub, async (instance: ChainPoller) => {
      const first = instance.poll();
      expect(instance.poll()).toBe(first);
      await first;
      const next = instance.poll();
      expect(next).not.toBe(first);
      await next;
    });
  });
});
