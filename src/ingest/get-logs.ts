import type { Hex } from "viem";
import type { ChainLog } from "./log-to-trigger-data";

/** A log as JSON-RPC returns it (quantities as hex strings). */
export interface RpcLog {
  address: Hex;
  topics: Hex[];
  data: Hex;
  blockNumber: Hex;
  blockHash: Hex;
  transactionHash: Hex;
  transactionIndex: Hex;
  logIndex: Hex;
  /** The block's timestamp: anvil, reth and newer geth include it; older nodes and providers do not. */
  blockTimestamp?: Hex;
  removed?: boolean;
}

export type RpcRequest = (args: { method: string; params: unknown[] }) => Promise<unknown>;

/**
 * Providers refuse wide eth_getLogs ranges in their own words: Alchemy "Log response size exceeded",
 * Infura "query returned more than 10000 results", QuickNode/others "block range … too large",
 * "exceed maximum block range", code -32005 "limit exceeded". Any of these means: ask for less.
 */
export function isRangeLimitError(e: unknown): boolean {
  for (
    let err = e as { message?: unknown; details?: unknown; code?: unknown; cause?: unknown } | undefined, depth = 0;
    err && depth < 5;
    err = err.cause as typeof err, depth++
  ) {
    if (err.code === -32005) return true;
    const text = `${String(err.message ?? "")} ${String(err.details ?? "")}`;
    if (
      /response size|more than \d+ results|too many (results|logs)|block range|range (is )?too (large|wide)|exceed(s|ed)? (the )?max(imum)?|limit exceeded|query timeout|too large/i.test(
        text,
      )
    )
      return true;
  }
  return false;
}

/**
 * eth_getLogs over [from, to], halving the range whenever the provider refuses it as too wide
 * or too large, down to single blocks.
 * @throws the provider's error when even one block is refused, or any other RPC error
 */
export async function getLogsSplitting(
  request: RpcRequest,
  filter: { address: Hex[]; topics: Hex[][] },
  from: bigint,
  to: bigint,
): Promise<RpcLog[]> {
  try {
    return (await request({
      method: "eth_getLogs",
      params: [{ ...filter, fromBlock: toHex(from), toBlock: toHex(to) }],
    })) as RpcLog[];
  } catch (e) {
    if (from >= to || !isRangeLimitError(e)) throw e;
    const mid = from + (to - from) / 2n;
    const left = await getLogsSplitting(request, filter, from, mid);
    const right = await getLogsSplitting(request, filter, mid + 1n, to);
    return [...left, ...right];
  }
}

export function parseRpcLog(raw: RpcLog): ChainLog & { removed: boolean; blockTimestamp?: bigint } {
  return {
    ...(raw.blockTimestamp ? { blockTimestamp: BigInt(raw.blockTimestamp) } : {}),
    address: raw.address,
    topics: raw.topics,
    data: raw.data,
    blockNumber: BigInt(raw.blockNumber),
    blockHash: raw.blockHash,
    transactionHash: raw.transactionHash,
    transactionIndex: Number(raw.transactionIndex),
    logIndex: Number(raw.logIndex),
    removed: raw.removed === true,
  };
}

export const toHex = (n: bigint) => `0x${n.toString(16)}` as Hex;
