import { describe, expect, it } from "vitest";
import { capFees, checkSpend, exceedsCeiling, parseSpendingLimits, SPEND_WINDOW_MS } from "./spending-limits";

const limits = parseSpendingLimits({
  SUBMIT_MAX_GAS_PRICE_WEI: "100",
  SUBMIT_MAX_GAS_LIMIT: "1000",
  SUBMIT_MAX_SPEND_WEI_PER_SERVICE_HOUR: "250000",
});

describe("spending limits", () => {
  it("parses the vars, defaults included, and names a bad one", () => {
    expect(parseSpendingLimits({}).maxGasLimit).toBe(5_000_000n);
    expect(parseSpendingLimits({ SUBMIT_MAX_GAS_LIMIT: "0" }).maxGasLimit).toBe(0n);
    expect(() => parseSpendingLimits({ SUBMIT_MAX_GAS_PRICE_WEI: "-1" })).toThrow(/SUBMIT_MAX_GAS_PRICE_WEI/);
  });

  it("refuses a gas limit or a component's gas price above the ceiling, naming the var", () => {
    expect(exceedsCeiling(limits, { gas: 1000n, gasPrice: 100n })).toBeUndefined();
    expect(exceedsCeiling(limits, { gas: 1001n })).toMatch(/SUBMIT_MAX_GAS_LIMIT=1000/);
    expect(exceedsCeiling(limits, { gas: 10n, gasPrice: 101n })).toMatch(/SUBMIT_MAX_GAS_PRICE_WEI=100/);
    expect(
      exceedsCeiling(parseSpendingLimits({ SUBMIT_MAX_GAS_LIMIT: "0", SUBMIT_MAX_GAS_PRICE_WEI: "0" }), {
        gas: 10n ** 9n,
        gasPrice: 10n ** 15n,
      }),
    ).toBeUndefined();
  });

  it("holds chain fees to the price ceiling", () => {
    expect(capFees(limits, { maxFeePerGas: 500n, maxPriorityFeePerGas: 2n })).toEqual({
      maxFeePerGas: 100n,
      maxPriorityFeePerGas: 2n,
    });
  });

  it("lets a service commit up to its hourly ceiling, then says when the window frees enough", () => {
    const now = 10 * SPEND_WINDOW_MS;
    const entries = [
      { at: now - SPEND_WINDOW_MS - 1, wei: "250000" }, // out of the window
      { at: now - 30 * 60_000, wei: "100000" },
      { at: now - 10 * 60_000, wei: "100000" },
    ];
    expect(checkSpend(limits, entries, 50_000n, now)).toEqual({ ok: true });
    const held = checkSpend(limits, entries, 100_000n, now);
    expect(held).toMatchObject({ ok: false, retryAt: now - 30 * 60_000 + SPEND_WINDOW_MS });
    expect(checkSpend(limits, [], 300_000n, now)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/more than/),
    });
  });
});
