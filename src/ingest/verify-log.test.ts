import { BlockNotFoundError, type Hex } from "viem";
import { describe, expect, it } from "vitest";
import type { RpcLog } from "./get-logs";
import { verifyLogs } from "./verify-log";

const H = (n: number) => `0x${n.toString(16).padStart(64, "0")}` as Hex;
const hex = (n: bigint | number) => `0x${n.toString(16)}` as Hex;
const claimed = {
  address: "0x5fbdb2315678afecb367f032d93f642f64180aa3" as Hex,
  topics: [H(1)],
  data: "0x" as Hex,
  blockNumber: 7n,
  blockHash: H(70),
  transactionHash: H(700),
  logIndex: 0,
};

/**
 * An RPC node whose head is `head`; block n has hash H(10n) and, for n ≤ head, holds the claimed
 * log's twin at height n (block 7: the claimed log itself). Counts calls by kind.
 */
function node(head: bigint, opts: { timestamps?: boolean; logsAt?: (n: bigint) => RpcLog[] } = {}) {
  const calls: string[] = [];
  const rpcLog = (n: bigint): RpcLog => ({
    address: claimed.address,
    topics: claimed.topics,
    data: claimed.data,
    blockNumber: hex(n),
    blockHash: H(Number(n) * 10),
    transactionHash: H(Number(n) * 100),
    transactionIndex: "0x0",
    logIndex: "0x0",
    ...(opts.timestamps === false ? {} : { blockTimestamp: hex(99) }),
  });
  const client = {
    getBlockNumber: async () => {
      calls.push("head");
      return head;
    },
    getBlock: async ({ blockNumber }: { blockNumber: bigint }) => {
      calls.push(`header ${blockNumber}`);
      if (blockNumber > head) throw new BlockNotFoundError({ blockNumber });
      return { number: blockNumber, hash: H(Number(blockNumber) * 10), timestamp: 98n };
    },
    request: async ({ method, params }: { method: string; params: [{ fromBlock: Hex; toBlock: Hex }] }) => {
      const from = BigInt(params[0].fromBlock);
      const to = BigInt(params[0].toBlock);
      calls.push(`${method} ${from}-${to}`);
      const logs: RpcLog[] = [];
      for (let n = from; n <= to && n <= head; n++) logs.push(...(opts.logsAt ?? ((b) => [rpcLog(b)]))(n));
      return logs;
    },
  };
  return { calls, client: client as unknown as Parameters<typeof verifyLogs>[0] };
}

describe("verifyLogs", () => {
  it("with no confirmations asked, verifies a log with one eth_getLogs and no head or block read", async () => {
    const { calls, client } = node(9n);
    const [verdict] = await verifyLogs(client, 0, [claimed]);
    expect(verdict).toMatchObject({
      outcome: "verified",
      blockTimestamp: 99n,
      log: { blockNumber: 7n, transactionIndex: 0, logIndex: 0 },
    });
    expect(calls).toEqual(["eth_getLogs 7-7"]);
  });

  it("verifies every log of a delivery spanning several blocks with one eth_getLogs", async () => {
    const { calls, client } = node(20n);
    const logs = [7n, 9n, 12n].map((n) => ({
      ...claimed,
      blockNumber: n,
      blockHash: H(Number(n) * 10),
      transactionHash: H(Number(n) * 100),
    }));
    const verdicts = await verifyLogs(client, 0, logs);
    expect(verdicts.map((v) => v.outcome)).toEqual(["verified", "verified", "verified"]);
    expect(calls).toEqual(["eth_getLogs 7-12"]);
  });

  it("takes the timestamp from the block header when the node's logs carry none", async () => {
    const { calls, client } = node(9n, { timestamps: false });
    const [verdict] = await verifyLogs(client, 0, [claimed]);
    expect(verdict).toMatchObject({ outcome: "verified", blockTimestamp: 98n });
    expect(calls).toEqual(["eth_getLogs 7-7", "header 7"]);
  });

  it("with no confirmations asked, defers a log whose block the node does not have yet", async () => {
    const { client } = node(6n);
    expect(await verifyLogs(client, 0, [claimed])).toEqual([{ outcome: "deferred" }]);
  });

  it("with confirmations, defers a log above the depth before reading any log", async () => {
    const { calls, client } = node(8n);
    expect(await verifyLogs(client, 2, [claimed])).toEqual([{ outcome: "deferred" }]);
    expect(calls).toEqual(["head"]);
  });

  it("drops a log whose block at that height has another hash (a reorg), from the logs or the header", async () => {
    const { client } = node(9n);
    expect(await verifyLogs(client, 0, [{ ...claimed, blockHash: H(71) }])).toEqual([
      { outcome: "dropped", reason: "block_not_canonical" },
    ]);
    // The new block at that height has no log of the address: its header tells.
    const empty = node(9n, { logsAt: () => [] });
    expect(await verifyLogs(empty.client, 0, [{ ...claimed, blockHash: H(71) }])).toEqual([
      { outcome: "dropped", reason: "block_not_canonical" },
    ]);
    expect(empty.calls).toEqual(["eth_getLogs 7-7", "header 7"]);
  });

  it("drops forged logs for what they misstate: data, topics, transaction, index", async () => {
    const { client } = node(9n);
    const verdicts = await verifyLogs(client, 0, [
      { ...claimed, data: "0xff" },
      { ...claimed, topics: [H(2)] },
      { ...claimed, transactionHash: H(1234) },
      { ...claimed, logIndex: 3 },
    ]);
    expect(verdicts).toEqual([
      { outcome: "dropped", reason: "log_mismatch" },
      { outcome: "dropped", reason: "log_mismatch" },
      { outcome: "dropped", reason: "transaction_not_in_block" },
      { outcome: "dropped", reason: "log_not_found" },
    ]);
  });

  it("drops a log claimed from an address that logged nothing in a canonical block", async () => {
    const { client } = node(9n, { logsAt: () => [] });
    expect(await verifyLogs(client, 0, [claimed])).toEqual([
      { outcome: "dropped", reason: "transaction_not_in_block" },
    ]);
  });
});
