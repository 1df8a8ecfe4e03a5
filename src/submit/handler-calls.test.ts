import { encodeFunctionData, type Hex } from "viem";
import { describe, expect, it } from "vitest";
import { wavsHandlerAbi } from "../chain/wavs-abi";
import { findHandlerCalls, readHandlerCalls } from "./handler-calls";

const handler = "0x9fe46736679d2d9a65f0992f2272de9f3c7fa6e0" as Hex;
const eventId = "0x600aa2f4ead908bdb17c6509293ed567e544428b" as Hex;
const call = (id: Hex) =>
  encodeFunctionData({
    abi: wavsHandlerAbi,
    functionName: "handleSignedEnvelope",
    args: [
      { eventId: id, ordering: `0x${"00".repeat(12)}`, payload: "0x01" },
      { signers: [], signatures: [], referenceBlock: 1 },
    ],
  });
const tx = (n: number, input: Hex, to: Hex | null = handler) => ({
  to,
  input,
  hash: `0x${n.toString(16).padStart(64, "0")}` as Hex,
});

describe("readHandlerCalls", () => {
  it("decodes handleSignedEnvelope calls and skips transfers, other calls and contract creations", () => {
    const calls = readHandlerCalls([
      tx(1, call(eventId)),
      tx(2, "0x"),
      tx(3, "0x12345678"),
      tx(4, call(eventId), null),
    ]);
    expect(calls).toEqual([{ handler, eventId, txHash: tx(1, "0x").hash }]);
  });
});

describe("findHandlerCalls", () => {
  /** A chain of `latest + 1` blocks whose block 3 holds the call; counts the block reads. */
  function chain() {
    const reads: bigint[] = [];
    const client = {
      getBlock: async ({ blockNumber }: { blockNumber: bigint }) => {
        reads.push(blockNumber);
        return { transactions: blockNumber === 3n ? [tx(3, call(eventId))] : [] };
      },
    };
    return { reads, client: client as unknown as Parameters<typeof findHandlerCalls>[0] };
  }

  it("finds the call, and reads blocks 8 or more under the head only once per isolate", async () => {
    const { reads, client } = chain();
    const key = `test:${Math.random()}`;
    expect(await findHandlerCalls(client, key, { handler, eventId }, 0n, 20n)).toEqual([tx(3, "0x").hash]);
    expect(reads).toHaveLength(21);
    reads.length = 0;
    expect(await findHandlerCalls(client, key, { handler, eventId }, 0n, 20n)).toEqual([tx(3, "0x").hash]);
    // Blocks 13..20 are too near the head to keep: a lagging RPC node may not have them all yet.
    expect(reads.sort((a, b) => Number(a - b))).toEqual([13n, 14n, 15n, 16n, 17n, 18n, 19n, 20n]);
  });

  it("does not report another event's or another handler's call", async () => {
    const { client } = chain();
    const other = "0x0000000000000000000000000000000000000001" as Hex;
    expect(await findHandlerCalls(client, `test:${Math.random()}`, { handler, eventId: other }, 0n, 5n)).toEqual([]);
    expect(await findHandlerCalls(client, `test:${Math.random()}`, { handler: other, eventId }, 0n, 5n)).toEqual([]);
  });
});
