import { describe, expect, it } from "vitest";
import { checkSubmitTarget } from "./submit-target";

const manager = { chain: "evm:31337", address: "0x5FbDB2315678afecb367f032d93F642f64180aa3" };
const handler = "0x00000000000000000000000000000000000000c0" as const;

describe("checkSubmitTarget", () => {
  it("accepts a handler that answers the service's own manager (any case)", () => {
    expect(
      checkSubmitTarget({ chain: "evm:31337", handler }, "0x5fbdb2315678afecb367f032d93f642f64180aa3", manager),
    ).toBeUndefined();
  });

  it("refuses a handler that answers another manager", () => {
    expect(
      checkSubmitTarget({ chain: "evm:31337", handler }, "0x000000000000000000000000000000000000beef", manager),
    ).toMatch(/not the service's/);
  });

  it("refuses a handler on another chain than the manager", () => {
    expect(checkSubmitTarget({ chain: "evm:1", handler }, manager.address as `0x${string}`, manager)).toMatch(/evm:1/);
  });
});
