import { BlockNotFoundError, type Hex } from "viem";
import { describe, expect, it } from "vitest";
import { createLogVerifier } from "./verify-log";

const H = (n: number) => `0x${n.toString(16).padStart(64, "0")}` as Hex;
const claimed = {
  address: "0x5fbdb2315678afecb367f032d93f642f64180aa3" as Hex,
  topics: [H(1)],
  data: "0x" as Hex,
  blockNumber: 7n,
  blockHash: H(70),
  transactionHash: H(700),
  logIndex: 0,
};

/** An RPC node whose head is `head` and whose block 7 holds the claimed log; counts calls by kind. */
function node(head: bigint) {
  const calls: string[] = [];
  const client = {
    getBlockNumber: async () => (calls.push("head"), head),
    getBlock: async ({ blockNumber }: { blockNumber: bigint }) => {
      calls.push(`block ${blockNumber}`);
      if (blockNumber > head) throw new BlockNotFoundError({ blockNumber });
      return {
        number: blockNumber,
        hash: H(Number(blockNumber) * 10),
        parentHash: H(1),
        timestamp: 99n,
        transactions: [],
      };
    },
    getTransactionReceipt: async () => (
      calls.push("receipt"),
      {
        blockHash: H(70),
        blockNumber: 7n,
        transactionIndex: 0,
        logs: [{ address: claimed.address, topics: claimed.topics, data: claimed.data, logIndex: 0 }],
      }
    ),
  };
  return { calls, client: client as unknown as Parameters<typeof createLogVerifier>[0] };
}

describe("createLogVerifier", () => {
  it("with no confirmations asked, verifies a log from its block and receipt without reading the head", async () => {
    const { calls, client } = node(9n);
    const verdict = await createLogVerifier(client, `test:${Math.random()}`, 0)(claimed);
    expect(verdict).toMatchObject({ outcome: "verified", blockTimestamp: 99n });
    expect(calls).toEqual(["block 7", "receipt"]);
  });

  it("with no confirmations asked, defers a log whose block the node does not have yet", async () => {
    const { calls, client } = node(6n);
    expect(await createLogVerifier(client, `test:${Math.random()}`, 0)(claimed)).toEqual({ outcome: "deferred" });
    expect(calls).toEqual(["block 7"]);
  });

  it("with confirmations, defers a log above the depth before reading its block", async () => {
    const { calls, client } = node(8n);
    expect(await createLogVerifier(client, `test:${Math.random()}`, 2)(claimed)).toEqual({ outcome: "deferred" });
    expect(calls).toEqual(["head"]);
  });

  it("drops a log whose block at that height has another hash", async () => {
    const { client } = node(9n);
    const verdict = await createLogVerifier(client, `test:${Math.random()}`, 0)({ ...claimed, blockHash: H(71) });
    expect(verdict).toEqual({ outcome: "dropped", reason: "block_not_canonical" });
  });
});
