import { describe, expect, it } from "vitest";
import { applyRunLimits, parseRunLimitCeilings } from "./run-limits";

const U64_MAX = (1n << 64n) - 1n;
const ceilings = parseRunLimitCeilings({ MAX_TIME_LIMIT_SECONDS: "300", MAX_FUEL_LIMIT: "1000000" });

describe("run limits", () => {
  it("runs a component with no time_limit_seconds up to the ceiling (not 30 s), without a note", () => {
    expect(applyRunLimits({ time_limit_seconds: null, fuel_limit: null }, parseRunLimitCeilings({}))).toEqual({
      timeLimitSeconds: 300,
      fuelLimit: null,
      capped: [],
    });
  });

  it("keeps limits under the ceilings as they are", () => {
    expect(applyRunLimits({ time_limit_seconds: 45n, fuel_limit: 5n }, ceilings)).toEqual({
      timeLimitSeconds: 45,
      fuelLimit: 5n,
      capped: [],
    });
  });

  it("caps a u64 of 2^64-1 to the ceilings, noting both, without overflowing a number", () => {
    const limits = applyRunLimits({ time_limit_seconds: U64_MAX, fuel_limit: U64_MAX }, ceilings);
    expect(limits.timeLimitSeconds).toBe(300);
    expect(limits.fuelLimit).toBe(1_000_000n);
    expect(limits.capped).toEqual([
      { field: "time_limit_seconds", asked: "18446744073709551615", applied: "300", ceiling: "MAX_TIME_LIMIT_SECONDS" },
      { field: "fuel_limit", asked: "18446744073709551615", applied: "1000000", ceiling: "MAX_FUEL_LIMIT" },
    ]);
  });

  it("gives a time limit of 0 one second, and no fuel limit the fuel ceiling", () => {
    expect(applyRunLimits({ time_limit_seconds: 0n, fuel_limit: null }, ceilings)).toEqual({
      timeLimitSeconds: 1,
      fuelLimit: 1_000_000n,
      capped: [],
    });
  });

  it("refuses ceilings out of bounds, naming the variable", () => {
    for (const bad of ["0", "901", "1.5", "-3", "ten", "99999999999"]) {
      expect(() => parseRunLimitCeilings({ MAX_TIME_LIMIT_SECONDS: bad })).toThrow(/MAX_TIME_LIMIT_SECONDS/);
    }
    expect(parseRunLimitCeilings({ MAX_TIME_LIMIT_SECONDS: "900" }).maxTimeLimitSeconds).toBe(900);
    for (const bad of ["0", "18446744073709551616", "1e9", "x"]) {
      expect(() => parseRunLimitCeilings({ MAX_FUEL_LIMIT: bad })).toThrow(/MAX_FUEL_LIMIT/);
    }
    expect(parseRunLimitCeilings({ MAX_FUEL_LIMIT: "18446744073709551615" }).maxFuelLimit).toBe(U64_MAX);
  });
});
