/** Small bounds a hostile component or service could otherwise push past. */
import { describe, expect, it } from "vitest";
import { AggregatorActionError, checkTimerDelay } from "../../src/aggregate/run-aggregator";

describe("aggregator timer delays", () => {
  it("accept 1 s to 24 h and refuse, permanently, anything shorter or longer", () => {
    expect(() => checkTimerDelay(1_000)).not.toThrow();
    expect(() => checkTimerDelay(24 * 3_600_000)).not.toThrow();
    for (const bad of [0, 999, 24 * 3_600_000 + 1, Number.NaN, 2n ** 64n - 1n]) {
      expect(() => checkTimerDelay(bad), String(bad)).toThrow(AggregatorActionError);
    }
  });
});
