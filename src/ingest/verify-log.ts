import { BlockNotFoundError, type Hex, type PublicClient } from "viem";
import { getLogsSplitting, parseRpcLog, type RpcRequest } from "./get-logs";
import type { ChainLog } from "./log-to-trigger-data";
import type { ClaimedLog } from "./webhook-payloads";

export type LogVerdict =
  /** On the canonical chain at the required depth, exactly as claimed; carries the node's own view. */
  | { outcome: "verified"; log: ChainLog; blockTimestamp: bigint }
  /** Not yet buried under the confirmation depth: the poller takes it once it is. */
  | { outcome: "deferred" }
  /** Forged or reorged: never enqueued, recorded. */
  | { outcome: "dropped"; reason: string };

/** The widest block span one eth_getLogs of a delivery covers (a delivery spanning more asks more than once). */
const MAX_SPAN = 64n;

type VerifierClient = Pick<PublicClient, "getBlockNumber" | "getBlock" | "request">;
type CanonicalLog = ReturnType<typeof parseRpcLog>;

/**
 * Checks a webhook's claimed logs against the node's own RPC: one eth_getLogs over the blocks they
 * name (at most MAX_SPAN wide), for the addresses they claim, returns the canonical logs at those
 * heights, each with its block hash, transaction and index. A claimed log is verified only when one
 * of them matches it exactly; the rare log that matches none costs a header read of its block, to
 * tell a reorged block from a forgery. The block timestamp is the log's own (the header's value)
 * or, from a node that omits it, the header's.
 * @returns one verdict per claimed log, in order
 * @throws RPC transport errors (the caller answers 502 so the provider retries)
 */
export async function verifyLogs(
  client: VerifierClient,
  confirmations: number,
  claimed: readonly ClaimedLog[],
): Promise<LogVerdict[]> {
  if (claimed.length === 0) return [];
  // Above the depth (or beyond our head: our RPC lags, or the log is made up): not final yet.
  // With no depth to wait for, the block's own presence tells the same without reading the head.
  const head = confirmations > 0 ? await client.getBlockNumber({ cacheTime: 0 }) : undefined;
  const final = (l: ClaimedLog) => head === undefined || l.blockNumber <= head - BigInt(confirmations);
  const onChain = await readCanonicalLogs(client, claimed.filter(final));
  const headers = new Map<bigint, Promise<{ hash: Hex; timestamp: bigint } | undefined>>();
  const header = (n: bigint) => {
    let p = headers.get(n);
    if (!p) {
      p = client.getBlock({ blockNumber: n }).then(
        (b) => (b.hash ? { hash: b.hash.toLowerCase() as Hex, timestamp: b.timestamp } : undefined),
        (e: unknown) => (e instanceof BlockNotFoundError ? undefined : Promise.reject(e)),
      );
      headers.set(n, p);
    }
    return p;
  };
  const verdicts: LogVerdict[] = [];
  for (const log of claimed) {
    if (!final(log)) {
      verdicts.push({ outcome: "deferred" });
      continue;
    }
    const atHeight = onChain.get(log.blockNumber) ?? [];
    const decided = judgeClaimedLog(log, atHeight);
    if (decided.outcome === "verified") {
      const { blockTimestamp, removed: _, ...chainLog } = decided.match;
      const timestamp = blockTimestamp ?? (await header(log.blockNumber))?.timestamp;
      if (timestamp === undefined) verdicts.push({ outcome: "dropped", reason: "block_not_canonical" });
      else
        verdicts.push({
          outcome: "verified",
          log: { ...chainLog, blockHash: log.blockHash },
          blockTimestamp: timestamp,
        });
      continue;
    }
    if (decided.outcome === "dropped") {
      verdicts.push(decided);
      continue;
    }
    // No canonical log of those addresses at that height tells the block's hash: read the header.
    const block = await header(log.blockNumber);
    if (!block)
      verdicts.push(
        confirmations === 0 ? { outcome: "deferred" } : { outcome: "dropped", reason: "block_not_canonical" },
      );
    else if (block.hash !== log.blockHash.toLowerCase())
      verdicts.push({ outcome: "dropped", reason: "block_not_canonical" });
    else verdicts.push({ outcome: "dropped", reason: "transaction_not_in_block" });
  }
  return verdicts;
}

/**
 * A claimed log against the canonical logs at its height (of the claimed addresses). Pure.
 * "unknown-block" when none of them tells the block's hash (the caller reads the header).
 */
export function judgeClaimedLog(
  claimed: ClaimedLog,
  atHeight: readonly CanonicalLog[],
):
  | { outcome: "verified"; match: CanonicalLog }
  | { outcome: "dropped"; reason: string }
  | { outcome: "unknown-block" } {
  if (atHeight.length === 0) return { outcome: "unknown-block" };
  if (atHeight[0]!.blockHash.toLowerCase() !== claimed.blockHash.toLowerCase())
    return { outcome: "dropped", reason: "block_not_canonical" };
  const txHash = claimed.transactionHash.toLowerCase();
  const match = atHeight.find((l) => l.logIndex === claimed.logIndex);
  if (!match || match.transactionHash.toLowerCase() !== txHash) {
    const txHasLogs = atHeight.some((l) => l.transactionHash.toLowerCase() === txHash);
    return { outcome: "dropped", reason: txHasLogs ? "log_not_found" : "transaction_not_in_block" };
  }
  const same =
    match.address.toLowerCase() === claimed.address.toLowerCase() &&
    match.data.toLowerCase() === claimed.data.toLowerCase() &&
    match.topics.length === claimed.topics.length &&
    match.topics.every((t, i) => t.toLowerCase() === claimed.topics[i]!.toLowerCase());
  return same ? { outcome: "verified", match } : { outcome: "dropped", reason: "log_mismatch" };
}

/** The canonical logs of the claimed addresses at the claimed heights, by height (one request per MAX_SPAN blocks). */
async function readCanonicalLogs(
  client: VerifierClient,
  claimed: readonly ClaimedLog[],
): Promise<Map<bigint, CanonicalLog[]>> {
  const byHeight = new Map<bigint, CanonicalLog[]>();
  if (claimed.length === 0) return byHeight;
  const heights = [...new Set(claimed.map((l) => l.blockNumber))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const addresses = [...new Set(claimed.map((l) => l.address.toLowerCase() as Hex))];
  const request = client.request as unknown as RpcRequest;
  for (let i = 0; i < heights.length; ) {
    const from = heights[i]!;
    let to = from;
    while (i < heights.length && heights[i]! - from < MAX_SPAN) to = heights[i++]!;
    for (const raw of await getLogsSplitting(request, { address: addresses, topics: [] }, from, to)) {
      const log = parseRpcLog(raw);
      if (log.removed) continue;
      const list = byHeight.get(log.blockNumber) ?? [];
      list.push(log);
      byHeight.set(log.blockNumber, list);
    }
  }
  return byHeight;
}
