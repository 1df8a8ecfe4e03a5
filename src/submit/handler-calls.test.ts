import type { Hex } from "viem";
import { describe, expect, it } from "vitest";
import { handlerCallData } from "../../test/support/handler-call-data";
import { findHandlerCalls } from "./handler-calls";

const handler = "0x9fe46736679d2d9a65f0992f2272de9f3c7fa6e0" as Hex;
const eventId = "0x600aa2f4ead908bdb17c6509293ed567e544428b" as Hex;
const input = handlerCallData(eventId);
const hashOf = (fork: string, n: bigint) => `0x${fork}${n.toString(16).padStart(63, "0")}` as Hex;

/**
 * A chain the test can grow and fork: block n's hash names its fork, and the handler call sits in
 * the block `landedIn` says (per fork). Counts every block read, "latest" ones apart.
 */
function chain(head: bigint, landedIn: Record<string, bigint> = { a: 3n }) {
  const state = { head, forkFrom: undefined as bigint | undefined, reads: [] as (bigint | "latest")[] };
  const forkOf = (n: bigint) => (state.forkFrom !== undefined && n >= state.forkFrom ? "b" : "a");
  const blockAt = (n: bigint) => ({
    number: n,
    hash: hashOf(forkOf(n), n),
    parentHash: hashOf(forkOf(n - 1n), n - 1n),
    timestamp: n,
    transactions: landedIn[forkOf(n)] === n ? [{ to: handler, input, hash: hashOf(`${forkOf(n)}f`, n) }] : [],
  });
  const client = {
    getBlock: async (args: { blockNumber?: bigint; blockTag?: "latest" }) => {
      state.reads.push(args.blockTag ?? args.blockNumber!);
      return blockAt(args.blockTag ? state.head : args.blockNumber!);
    },
  };
  return { state, client: client as unknown as Parameters<typeof findHandlerCalls>[0] };
}
const sorted = (reads: (bigint | "latest")[]) =>
  [...reads].sort((x, y) => (x === "latest" ? -1 : y === "latest" ? 1 : Number(x - y)));
const all = { from: 0n, lookback: 256n };

describe("findHandlerCalls", () => {
  it("reads each block once per isolate, the newest included: a later search reads only the head and what is new", async () => {
    const { state, client } = chain(20n);
    const key = `test:${Math.random()}`;
    expect(await findHandlerCalls(client, key, { handler, eventId }, all)).toEqual({
      head: 20n,
      txHashes: [hashOf("af", 3n)],
    });
    expect(state.reads).toHaveLength(21);
    state.reads = [];
    expect((await findHandlerCalls(client, key, { handler, eventId }, all)).txHashes).toEqual([hashOf("af", 3n)]);
    expect(state.reads).toEqual(["latest"]);
    state.reads = [];
    state.head = 23n;
    expect((await findHandlerCalls(client, key, { handler, eventId }, all)).head).toBe(23n);
    expect(sorted(state.reads)).toEqual(["latest", 21n, 22n]);
  });

  it("after a reorg, re-reads the blocks of the abandoned fork and reports the call where it now is", async () => {
    const { state, client } = chain(20n, { a: 17n, b: 19n });
    const key = `test:${Math.random()}`;
    expect((await findHandlerCalls(client, key, { handler, eventId }, all)).txHashes).toEqual([hashOf("af", 17n)]);
    state.reads = [];
    state.forkFrom = 16n; // blocks 16..21 replaced
    state.head = 21n;
    expect((await findHandlerCalls(client, key, { handler, eventId }, all)).txHashes).toEqual([hashOf("bf", 19n)]);
    expect(sorted(state.reads)).toEqual(["latest", 16n, 17n, 18n, 19n, 20n]);
  });

  it("searches from `from`, and no further back than `lookback` blocks from the head", async () => {
    const { state, client } = chain(20n);
    expect(
      (await findHandlerCalls(client, `test:${Math.random()}`, { handler, eventId }, { from: 4n, lookback: 256n }))
        .txHashes,
    ).toEqual([]);
    expect(sorted(state.reads)).toEqual(["latest", ...Array.from({ length: 16 }, (_, i) => BigInt(4 + i))]);
    state.reads = [];
    await findHandlerCalls(client, `test:${Math.random()}`, { handler, eventId }, { from: 0n, lookback: 5n });
    expect(sorted(state.reads)).toEqual(["latest", 16n, 17n, 18n, 19n]);
  });

  it("shares one read of a block between concurrent searches", async () => {
    const { state, client } = chain(20n);
    const key = `test:${Math.random()}`;
    await Promise.all([
      findHandlerCalls(client, key, { handler, eventId }, all),
      findHandlerCalls(client, key, { handler, eventId }, all),
    ]);
    // Each search reads its own head; the 20 blocks under it are read once between them.
    expect(state.reads.filter((r) => r !== "latest")).toHaveLength(20);
  });

  it("does not report another event's or another handler's call", async () => {
    const { client } = chain(5n);
    const other = "0x0000000000000000000000000000000000000001" as Hex;
    expect(
      (await findHandlerCalls(client, `test:${Math.random()}`, { handler, eventId: other }, all)).txHashes,
    ).toEqual([]);
    expect(
      (await findHandlerCalls(client, `test:${Math.random()}`, { handler: other, eventId }, all)).txHashes,
    ).toEqual([]);
  });
});
