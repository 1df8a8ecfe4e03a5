import { describe, expect, it } from "vitest";
import { parseSubmitterSettings } from "./submitter-settings";

describe("submitter settings", () => {
  it("has defaults for every timer", () => {
    expect(parseSubmitterSettings({})).toEqual({
      stuckAfterMs: 30_000,
      feeTtlMs: 3_000,
      sweepMs: 1_000,
      refusedRetryMs: 15_000,
    });
  });

  it("reads the vars and names a bad one", () => {
    expect(parseSubmitterSettings({ SUBMIT_SWEEP_MS: "0", SUBMIT_REFUSED_RETRY_MS: "500" })).toMatchObject({
      sweepMs: 0,
      refusedRetryMs: 500,
    });
    expect(() => parseSubmitterSettings({ SUBMIT_FEE_TTL_MS: "soon" })).toThrow(/SUBMIT_FEE_TTL_MS/);
    expect(() => parseSubmitterSettings({ TX_STUCK_AFTER_MS: "10" })).toThrow(/TX_STUCK_AFTER_MS/);
  });
});
