import { bytesToHex } from "viem";
import { describe, expect, it } from "vitest";
import { BincodeWriter } from "./bincode";
import { computeEventId, computeServiceId, encodeTriggerDataSalt } from "./event-id";

const manager = {
  evm: { chain: "evm:31337", address: "0x5fbdb2315678afecb367f032d93f642f64180aa3" as const },
};
const serviceId = "76d41ff256803de151fce2ed99d145cf985af50e6def0809072e9f68932f5d11";

describe("bincode varints", () => {
  it.each([
    [0n, "0x00"],
    [250n, "0xfa"],
    [251n, "0xfbfb00"],
    [65535n, "0xfbffff"],
    [65536n, "0xfc00000100"],
    [2n ** 32n, "0xfd0000000001000000"],
    [2n ** 64n, "0xfe00000000000000000100000000000000"],
  ])("encodes %s as %s", (value, hex) => {
    expect(bytesToHex(new BincodeWriter().varint(value).finish())).toBe(hex);
  });

  it("refuses negative values", () => {
    expect(() => new BincodeWriter().varint(-1n)).toThrow(RangeError);
  });
});

describe("service and event ids (DESIGN.md vectors)", () => {
  it("derives the service id from the manager", () => {
    expect(computeServiceId(manager)).toBe(serviceId);
  });

  it("salts Raw trigger data with its bincode encoding", () => {
    const salt = encodeTriggerDataSalt({ Raw: new TextEncoder().encode("hello") });
    expect(bytesToHex(salt)).toBe("0x0605" + "68656c6c6f");
    expect(bytesToHex(computeEventId(serviceId, "default", salt))).toBe("0x600aa2f4ead908bdb17c6509293ed567e544428b");
  });

  it("uses an explicit salt as is", () => {
    const id = computeEventId(serviceId, "default", new TextEncoder().encode("a"));
    expect(bytesToHex(id)).toBe("0xdc11a321708f859ac5c478851033c9f9fda01852");
  });

  it("encodes block-interval and cron data", () => {
    expect(bytesToHex(encodeTriggerDataSalt({ BlockInterval: { chain: "evm:1", block_height: 300n } }))).toBe(
      "0x0205" + "65766d3a31" + "fb2c01",
    );
    expect(bytesToHex(encodeTriggerDataSalt({ Cron: { trigger_time: 7n } }))).toBe("0x0307");
  });

  it("encodes an EVM log field by field", () => {
    const salt = encodeTriggerDataSalt({
      EvmContractEvent: {
        chain: "evm:1",
        contract_address: `0x${"11".repeat(20)}`,
        log_data: { topics: [`0x${"22".repeat(32)}`], data: "0xabcd" },
        tx_hash: `0x${"33".repeat(32)}`,
        block_number: 1000n,
        log_index: 2n,
        block_hash: `0x${"44".repeat(32)}`,
        block_timestamp: null,
        tx_index: 3n,
      },
    });
    expect(bytesToHex(salt)).toBe(
      "0x01" +
        "05" +
        "65766d3a31" +
        "14" +
        "11".repeat(20) +
        "01" +
        "20" +
        "22".repeat(32) +
        "02" +
        "abcd" +
        "20" +
        "33".repeat(32) +
        "fbe803" +
        "02" +
        "20" +
        "44".repeat(32) +
        "00" +
        "03",
    );
  });
});
