import { describe, expect, it } from "vitest";
import { mnemonicToAccount } from "viem/accounts";
import { buildEnvelope, signEnvelope } from "../sign/envelope";
import type { TriggerData } from "../service/types";
import { readAggregatorInput } from "./aggregator-input";
import { encodeSubmission } from "./submission";

const account = mnemonicToAccount("test test test test test test test test test test test junk");
const serviceId = "76d41ff256803de151fce2ed99d145cf985af50e6def0809072e9f68932f5d11";
const trigger = {
  evm_contract_event: { address: `0x${"11".repeat(20)}`, chain: "evm:31337", event_hash: `0x${"22".repeat(32)}` },
} as const;

async function submissionWith(data: Parameters<typeof encodeSubmission>[0]["action"]["data"]) {
  const payload = new TextEncoder().encode('{"y":144}');
  const envelope = buildEnvelope(new Uint8Array(20).fill(1), payload, 7n);
  return encodeSubmission({
    action: { config: { service_id: serviceId, workflow_id: "default", trigger: "manual" }, data },
    response: { payload, ordering: 2n ** 60n + 1n, event_id_salt: new Uint8Array([1, 2]) },
    envelope,
    signature: await signEnvelope(account, envelope),
    prefix: "eip191",
  });
}

describe("readAggregatorInput", () => {
  // A whole Submission JSON carries its payload: `payload` (the envelope's) is for a SubmissionInput.
  const p = { serviceId, workflowId: "default", trigger, eventId: `0x${"01".repeat(20)}`, payload: "0x" } as const;

  it("reads the trigger data and response exactly, with the trigger as this node registered it", async () => {
    const data: TriggerData = {
      EvmContractEvent: {
        chain: "evm:31337",
        contract_address: `0x${"ab".repeat(20)}`,
        log_data: { topics: [`0x${"cd".repeat(32)}`], data: "0x1234" },
        tx_hash: `0x${"ef".repeat(32)}`,
        block_number: 2n ** 63n + 5n,
        log_index: 3n,
        block_hash: `0x${"12".repeat(32)}`,
        block_timestamp: null,
        tx_index: 0n,
      },
    };
    const input = readAggregatorInput(await submissionWith(data), p);
    expect(input.action).toEqual({ config: { service_id: serviceId, workflow_id: "default", trigger }, data });
    expect(input.response).toEqual({
      payload: new TextEncoder().encode('{"y":144}'),
      ordering: 2n ** 60n + 1n,
      event_id_salt: new Uint8Array([1, 2]),
    });
    expect(input.eventId).toBe(p.eventId);
    expect(readAggregatorInput(await submissionWith({ Raw: new Uint8Array([104, 105]) }), p).action.data).toEqual({
      Raw: new Uint8Array([104, 105]),
    });
  });

  it("refuses trigger data of unknown shape, naming the field", async () => {
    const json = JSON.parse(await submissionWith({ Raw: new Uint8Array([1]) }));
    json.trigger_action.data = { Raw: [1, 999] };
    expect(() => readAggregatorInput(JSON.stringify(json), p)).toThrow(/trigger_action\.data/);
    json.trigger_action.data = { Elsewhere: {} };
    expect(() => readAggregatorInput(JSON.stringify(json), p)).toThrow(/trigger_action\.data/);
    expect(() => readAggregatorInput("{", p)).toThrow(/does not parse/);
  });
});
