import { concatBytes, hexToBytes, ripemd160, sha256 } from "viem";
import type { ServiceManager, TriggerData } from "./types";
import { BincodeWriter } from "./bincode";

/** TriggerData variant indices in WAVS's enum order; they are part of the event id. */
const TRIGGER_DATA_INDEX = {
  CosmosContractEvent: 0,
  EvmContractEvent: 1,
  BlockInterval: 2,
  Cron: 3,
  AtProtoEvent: 4,
  HypercoreAppend: 5,
  Raw: 6,
} as const;

/** ServiceId = sha256("evm" ‖ chain key ‖ 20-byte manager address), lowercase hex without 0x. */
export function computeServiceId(manager: ServiceManager): string {
  const { chain, address } = manager.evm;
  const bytes = concatBytes([new TextEncoder().encode("evm"), new TextEncoder().encode(chain), hexToBytes(address)]);
  return sha256(bytes).slice(2);
}

/**
 * The bincode (standard config) encoding of trigger data, WAVS's default event-id salt.
 * @throws RangeError when a number does not fit its field
 */
export function encodeTriggerDataSalt(data: TriggerData): Uint8Array {
  const w = new BincodeWriter();
  if ("Raw" in data) {
    w.varint(TRIGGER_DATA_INDEX.Raw).bytes(data.Raw);
  } else if ("BlockInterval" in data) {
    const d = data.BlockInterval;
    w.varint(TRIGGER_DATA_INDEX.BlockInterval).string(d.chain).varint(d.block_height);
  } else if ("Cron" in data) {
    w.varint(TRIGGER_DATA_INDEX.Cron).varint(data.Cron.trigger_time);
  } else {
    const d = data.EvmContractEvent;
    w.varint(TRIGGER_DATA_INDEX.EvmContractEvent)
      .string(d.chain)
      .bytes(hexToBytes(d.contract_address))
      .varint(d.log_data.topics.length);
    for (const topic of d.log_data.topics) w.bytes(hexToBytes(topic));
    w.bytes(hexToBytes(d.log_data.data))
      .bytes(hexToBytes(d.tx_hash))
      .varint(d.block_number)
      .varint(d.log_index)
      .bytes(hexToBytes(d.block_hash))
      .option(d.block_timestamp, (t) => w.varint(t))
      .varint(d.tx_index);
  }
  return w.finish();
}

/** EventId (20 bytes) = RIPEMD-160(serviceId bytes ‖ workflowId utf8 ‖ salt). */
export function computeEventId(serviceId: string, workflowId: string, salt: Uint8Array): Uint8Array {
  return hexToBytes(ripemd160(concatBytes([hexToBytes(`0x${serviceId}`), new TextEncoder().encode(workflowId), salt])));
}
