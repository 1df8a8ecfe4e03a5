import { describe, expect, it } from "vitest";
import { awaitShared, withDeadline } from "./await-shared";

describe("awaitShared", () => {
  it("takes the shared work's value when it settles in time, without doing its own", async () => {
    let own = 0;
    const value = await awaitShared(Promise.resolve(7), 1_000, async () => {
      own++;
      return 9;
    });
    expect(value).toBe(7);
    expect(own).toBe(0);
  });

  it("passes on the shared work's failure", async () => {
    await expect(awaitShared(Promise.reject(new Error("rpc down")), 1_000, async () => 9)).rejects.toThrow("rpc down");
  });

  it("does the work itself once the shared promise outlives its patience (one that never settles)", async () => {
    const never = new Promise<number>(() => {});
    const started = Date.now();
    expect(await awaitShared(never, 50, async () => 9)).toBe(9);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });
});

describe("withDeadline", () => {
  it("passes the work's value on when it is in time, and rejects with the overdue error when it is not", async () => {
    expect(await withDeadline(Promise.resolve(1), 1_000, () => new Error("late"))).toBe(1);
    await expect(withDeadline(new Promise(() => {}), 20, () => new Error("late"))).rejects.toThrow("late");
  });
});
