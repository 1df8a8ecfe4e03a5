import type { Hex, PublicClient } from "viem";
import { readBlock } from "../chain/block-cache";
import type { ChainLog } from "./log-to-trigger-data";
import type { ClaimedLog } from "./webhook-payloads";

export type LogVerdict =
  /** On the canonical chain at the required depth, exactly as claimed; carries the node's own view. */
  | { outcome: "verified"; log: ChainLog; blockTimestamp: bigint }
  /** Not yet buried under the confirmation depth: the poller takes it once it is. */
  | { outcome: "deferred" }
  /** Forged or reorged: never enqueued, recorded. */
  | { outcome: "dropped"; reason: string };

type Receipt = {
  blockHash: Hex;
  blockNumber: bigint;
  transactionIndex: number;
  logs: readonly { address: Hex; topics: readonly Hex[]; data: Hex; logIndex: number | null }[];
};

/**
 * Per-request RPC reads, cached: several logs of one webhook often share blocks and transactions.
 * Blocks are read with their transactions into the isolate's block cache (block-cache.ts), so the
 * landing search on this node does not read the trigger's block again.
 */
export function createLogVerifier(
  client: Pick<PublicClient, "getBlockNumber" | "getBlock" | "getTransactionReceipt">,
  chainKey: string,
  confirmations: number,
) {
  let head: Promise<bigint> | undefined;
  const blocks = new Map<bigint, Promise<{ hash: Hex; timestamp: bigint } | undefined>>();
  const receipts = new Map<Hex, Promise<Receipt | undefined>>();
  const getBlock = (n: bigint) => {
    let p = blocks.get(n);
    if (!p) {
      p = readBlock(client, chainKey, n);
      blocks.set(n, p);
    }
    return p;
  };
  const getReceipt = (h: Hex) => {
    let p = receipts.get(h);
    if (!p) {
      p = client.getTransactionReceipt({ hash: h }).then(
        (r) => r as Receipt,
        (e: unknown) => (isNotFound(e) ? undefined : Promise.reject(e)),
      );
      receipts.set(h, p);
    }
    return p;
  };

  /**
   * Checks a claimed log against the node's own RPC: its block is canonical at the required depth
   * (the block at that height has the claimed hash), its transaction's receipt is in that block, and
   * the receipt holds a log at that index with the same address, topics and data.
   * @throws RPC transport errors (the caller answers 502 so the provider retries)
   */
  return async function verifyLog(claimed: ClaimedLog): Promise<LogVerdict> {
    // Above the depth (or beyond our head: our RPC lags, or the log is made up): not final yet.
    // With no depth to wait for, the block's own presence tells the same without reading the head.
    if (confirmations > 0) {
      head ??= client.getBlockNumber({ cacheTime: 0 });
      if (claimed.blockNumber > (await head) - BigInt(confirmations)) return { outcome: "deferred" };
    }
    const block = await getBlock(claimed.blockNumber);
    if (!block && confirmations === 0) return { outcome: "deferred" };
    if (!block || block.hash.toLowerCase() !== claimed.blockHash) {
      return { outcome: "dropped", reason: "block_not_canonical" };
    }
    const receipt = await getReceipt(claimed.transactionHash);
    if (!receipt || receipt.blockHash.toLowerCase() !== claimed.blockHash) {
      return { outcome: "dropped", reason: "transaction_not_in_block" };
    }
    const onChain = receipt.logs.find((l) => l.logIndex === claimed.logIndex);
    if (!onChain) return { outcome: "dropped", reason: "log_not_found" };
    const same =
      onChain.address.toLowerCase() === claimed.address &&
      onChain.data.toLowerCase() === claimed.data &&
      onChain.topics.length === claimed.topics.length &&
      onChain.topics.every((t, i) => t.toLowerCase() === claimed.topics[i]);
    if (!same) return { outcome: "dropped", reason: "log_mismatch" };
    return {
      outcome: "verified",
      log: {
        address: onChain.address,
        topics: [...onChain.topics],
        data: onChain.data,
        blockNumber: receipt.blockNumber,
        blockHash: claimed.blockHash,
        transactionHash: claimed.transactionHash,
        transactionIndex: receipt.transactionIndex,
        logIndex: claimed.logIndex,
      },
      blockTimestamp: block.timestamp,
    };
  };
}

function isNotFound(e: unknown): boolean {
  return (e as { name?: string } | undefined)?.name === "TransactionReceiptNotFoundError";
}
