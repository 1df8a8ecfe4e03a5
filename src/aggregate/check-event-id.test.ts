import { bytesToHex, type Hex } from "viem";
import { describe, expect, it } from "vitest";
import { computeEventId, encodeTriggerDataSalt } from "../service/event-id";
import { checkEventId } from "./check-event-id";

// The vectors in /work/shared/DESIGN.md: manager evm:31337 / 0x5fbd…0aa3, workflow "default".
const serviceId = "76d41ff256803de151fce2ed99d145cf985af50e6def0809072e9f68932f5d11";
const helloId: Hex = "0x600aa2f4ead908bdb17c6509293ed567e544428b";
const saltAId: Hex = "0xdc11a321708f859ac5c478851033c9f9fda01852";
const hello = Array.from(new TextEncoder().encode("hello"));

describe("checkEventId", () => {
  it("accepts the id the trigger data derives when the response has no salt", () => {
    const check = checkEventId({
      serviceId,
      workflowId: "default",
      eventId: helloId,
      triggerData: { Raw: hello },
      salt: null,
    });
    expect(check).toEqual({ ok: true });
  });

  it("accepts the id the response's event_id_salt derives, whatever the trigger data", () => {
    const salt = new TextEncoder().encode("a");
    expect(
      checkEventId({ serviceId, workflowId: "default", eventId: saltAId, triggerData: { Raw: [] }, salt }),
    ).toEqual({
      ok: true,
    });
  });

  it("refuses another event's id presented with made-up trigger data, naming the id it should be", () => {
    const check = checkEventId({
      serviceId,
      workflowId: "default",
      eventId: helloId,
      triggerData: { Raw: [1] },
      salt: null,
    });
    expect(check).toMatchObject({
      ok: false,
      code: "event_id_mismatch",
      expected: bytesToHex(computeEventId(serviceId, "default", encodeTriggerDataSalt({ Raw: Uint8Array.of(1) }))),
    });
  });

  it("refuses an event's id presented under another workflow of the same service", () => {
    const check = checkEventId({
      serviceId,
      workflowId: "other",
      eventId: helloId,
      triggerData: { Raw: hello },
      salt: null,
    });
    expect(check).toMatchObject({ ok: false, code: "event_id_mismatch" });
  });

  it("refuses an id when the salt differs from the one it was derived from", () => {
    const salt = new TextEncoder().encode("b");
    expect(
      checkEventId({ serviceId, workflowId: "default", eventId: saltAId, triggerData: { Raw: [] }, salt }),
    ).toMatchObject({
      ok: false,
      code: "event_id_mismatch",
    });
  });

  it("recomputes from EVM log data, u64 fields included", () => {
    const data = {
      EvmContractEvent: {
        chain: "evm:31337",
        contract_address: `0x${"11".repeat(20)}`,
        log_data: { topics: [`0x${"22".repeat(32)}`], data: "0x0102" },
        tx_hash: `0x${"33".repeat(32)}`,
        block_number: 2n ** 40n,
        log_index: 3,
        block_hash: `0x${"44".repeat(32)}`,
        block_timestamp: null,
        tx_index: 0,
      },
    } as const;
    const salt = encodeTriggerDataSalt({
      EvmContractEvent: {
        ...data.EvmContractEvent,
        log_data: { ...data.EvmContractEvent.log_data, topics: [...data.EvmContractEvent.log_data.topics] },
        log_index: 3n,
        tx_index: 0n,
      },
    });
    const eventId = bytesToHex(computeEventId(serviceId, "default", salt));
    expect(checkEventId({ serviceId, workflowId: "default", eventId, triggerData: data, salt: null })).toEqual({
      ok: true,
    });
    const moved = { EvmContractEvent: { ...data.EvmContractEvent, log_index: 4 } };
    expect(checkEventId({ serviceId, workflowId: "default", eventId, triggerData: moved, salt: null })).toMatchObject({
      ok: false,
      code: "event_id_mismatch",
    });
  });

  it("answers trigger data it cannot read (needed without a salt) as a malformed body", () => {
    const check = checkEventId({
      serviceId,
      workflowId: "default",
      eventId: helloId,
      triggerData: { Raw: [256] },
      salt: null,
    });
    expect(check).toMatchObject({ ok: false, code: "invalid_body" });
  });
});
