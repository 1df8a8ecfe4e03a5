import type { Hex } from "viem";
import type { TriggerData } from "../service/types";

/** A log as eth_getLogs returns it (viem's shape), with the fields an event id needs. */
export interface ChainLog {
  address: Hex;
  topics: readonly Hex[];
  data: Hex;
  blockNumber: bigint;
  blockHash: Hex;
  transactionHash: Hex;
  transactionIndex: number;
  logIndex: number;
}

/** Dedupe key of a log: chain, block hash, tx hash, log index. A re-included log is a new event. */
export function logEventKey(chain: string, log: ChainLog): string {
  return `${chain}:${log.blockHash.toLowerCase()}:${log.transactionHash.toLowerCase()}:${log.logIndex}`;
}

/**
 * WAVS's EvmContractEvent trigger data for a log. The block timestamp is always filled from the
 * block header, so operators whose RPCs differ on `blockTimestamp` still derive the same event id.
 */
export function logToTriggerData(chain: string, log: ChainLog, blockTimestamp: bigint): TriggerData {
  return {
    EvmContractEvent: {
      chain,
      contract_address: log.address.toLowerCase() as Hex,
      log_data: { topics: [...log.topics], data: log.data },
      tx_hash: log.transactionHash,
      block_number: log.blockNumber,
      log_index: BigInt(log.logIndex),
      block_hash: log.blockHash,
      block_timestamp: blockTimestamp,
      tx_index: BigInt(log.transactionIndex),
    },
  };
}
