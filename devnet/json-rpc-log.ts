import { toHex, type Log } from "viem";

/** A viem log back in the JSON-RPC shape an indexer's webhook carries (quantities as hex). */
export function toJsonRpcLog(log: Log<bigint, number, false>) {
  return {
    address: log.address,
    topics: log.topics,
    data: log.data,
    blockNumber: toHex(log.blockNumber),
    blockHash: log.blockHash,
    transactionHash: log.transactionHash,
    transactionIndex: toHex(log.transactionIndex),
    logIndex: toHex(log.logIndex),
    removed: false,
  };
}
