import { describe, expect, it } from "vitest";
import { DEFAULT_POLL_MAX_MESSAGES, lastBlockWithinBudget, pollMaxMessages } from "./poll-budget";

describe("the poller's per-run message cap", () => {
  it("reads POLL_MAX_MESSAGES: unset is the default, otherwise a whole number ≥ 1", () => {
    expect(pollMaxMessages(undefined)).toBe(DEFAULT_POLL_MAX_MESSAGES);
    expect(pollMaxMessages(" ")).toBe(DEFAULT_POLL_MAX_MESSAGES);
    expect(pollMaxMessages("250")).toBe(250);
    for (const bad of ["0", "-1", "1.5", "lots"]) expect(() => pollMaxMessages(bad)).toThrow(/POLL_MAX_MESSAGES/);
  });

  it("cuts at the last block that fits whole, never inside a block", () => {
    const counts = new Map([
      [10n, 3],
      [12n, 4],
      [15n, 2],
    ]);
    expect(lastBlockWithinBudget(10n, 20n, counts, 100, true)).toBe(20n);
    expect(lastBlockWithinBudget(10n, 20n, counts, 9, true)).toBe(20n);
    expect(lastBlockWithinBudget(10n, 20n, counts, 8, true)).toBe(14n);
    expect(lastBlockWithinBudget(10n, 20n, counts, 7, true)).toBe(14n);
    expect(lastBlockWithinBudget(10n, 20n, counts, 6, true)).toBe(11n);
    // Blocks outside the range do not count.
    expect(lastBlockWithinBudget(13n, 20n, counts, 2, true)).toBe(20n);
  });

  it("lets a block larger than the whole cap through alone when the run has sent nothing, else stops before it", () => {
    const counts = new Map([
      [10n, 50],
      [11n, 1],
    ]);
    expect(lastBlockWithinBudget(10n, 11n, counts, 5, true)).toBe(10n);
    expect(lastBlockWithinBudget(10n, 11n, counts, 5, false)).toBe(9n);
    expect(lastBlockWithinBudget(8n, 11n, counts, 5, false)).toBe(9n);
  });
});
