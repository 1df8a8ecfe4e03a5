import { describe, expect, it } from "vitest";
import { triggerBlockOn } from "./trigger-block";

const withData = (data: unknown) => JSON.stringify({ trigger_action: { config: {}, data } });

describe("triggerBlockOn", () => {
  it("reads an EVM event's block on the same chain", () => {
    expect(
      triggerBlockOn(
        withData({ EvmContractEvent: { chain: "evm:31337", block_number: 1234, log_index: 0 } }),
        "evm:31337",
      ),
    ).toBe(1234n);
  });
  it("reads a block interval's height", () => {
    expect(triggerBlockOn(withData({ BlockInterval: { chain: "evm:1", block_height: 99 } }), "evm:1")).toBe(99n);
  });
  it("knows nothing of another chain's blocks, of cron and raw triggers, or of bad JSON", () => {
    expect(
      triggerBlockOn(withData({ EvmContractEvent: { chain: "evm:1", block_number: 5 } }), "evm:2"),
    ).toBeUndefined();
    expect(triggerBlockOn(withData({ Cron: { trigger_time: 1 } }), "evm:1")).toBeUndefined();
    expect(triggerBlockOn(withData({ Raw: [1, 2] }), "evm:1")).toBeUndefined();
    expect(
      triggerBlockOn(withData({ EvmContractEvent: { chain: "evm:1", block_number: -1 } }), "evm:1"),
    ).toBeUndefined();
    expect(triggerBlockOn("{", "evm:1")).toBeUndefined();
  });
});
