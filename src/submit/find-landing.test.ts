import { type Hex, MethodNotFoundRpcError, TransactionReceiptNotFoundError } from "viem";
import { describe, expect, it } from "vitest";
import { handlerCallData } from "../../test/support/handler-call-data";
import { findLanding, type LandingChain, landsEvent } from "./find-landing";
import type { RpcTrace } from "./handler-traces";

const handler = "0x9fe46736679d2d9a65f0992f2272de9f3c7fa6e0" as Hex;
const batcher = "0x5fbdb2315678afecb367f032d93f642f64180aa3" as Hex;
const eventId = "0x600aa2f4ead908bdb17c6509293ed567e544428b" as Hex;
const otherEvent = "0x1111111111111111111111111111111111111111" as Hex;
const tx = (n: number) => `0x${n.toString(16).padStart(64, "0")}` as Hex;

/** One mined transaction: where it sits, what it calls, whether it (or a caller of the handler) reverted. */
interface MinedTx {
  hash: Hex;
  block: number;
  id: Hex;
  reverted?: boolean;
  /** Called through `batcher`, whose own call reverts after the handler's (a caught revert). */
  undoneByCaller?: boolean;
}

function tracesOf(t: MinedTx): RpcTrace[] {
  const base = { type: "call", transactionHash: t.hash, blockNumber: t.block, blockHash: tx(t.block * 10) };
  const call = { to: handler, input: handlerCallData(t.id), callType: "call" };
  if (!t.undoneByCaller)
    return [{ ...base, action: call, traceAddress: [], ...(t.reverted ? { error: "Reverted" } : {}) }];
  return [
    { ...base, action: { to: batcher, input: "0x12345678", callType: "call" }, traceAddress: [] },
    { ...base, action: { to: batcher, input: "0x12345678", callType: "call" }, traceAddress: [0], error: "Reverted" },
    { ...base, action: call, traceAddress: [0, 0] },
  ];
}

/** A chain of `mined` transactions with head 100, with or without the trace_ namespace; counts requests by method. */
function chainOf(mined: MinedTx[], traces = true) {
  const calls: string[] = [];
  const client = {
    request: async ({ method, params }: { method: string; params: [unknown] }) => {
      calls.push(method);
      if (!traces) throw new MethodNotFoundRpcError(new Error(`${method} does not exist/is not available`));
      if (method === "trace_transaction") {
        const t = mined.find((m) => m.hash === params[0]);
        return t ? tracesOf(t) : [];
      }
      const from = Number(BigInt((params[0] as { fromBlock: Hex }).fromBlock));
      return mined.filter((m) => m.block >= from).flatMap((m) => tracesOf(m).filter((r) => r.action.to === handler));
    },
    getTransactionReceipt: async ({ hash }: { hash: Hex }) => {
      calls.push("eth_getTransactionReceipt");
      const t = mined.find((m) => m.hash === hash);
      if (!t) throw new TransactionReceiptNotFoundError({ hash });
      return {
        status: t.reverted || t.undoneByCaller ? "reverted" : "success",
        to: t.undoneByCaller ? batcher : handler,
      };
    },
    getTransaction: async ({ hash }: { hash: Hex }) => {
      calls.push("eth_getTransactionByHash");
      const t = mined.find((m) => m.hash === hash)!;
      return { to: handler, input: handlerCallData(t.id), hash };
    },
    getBlock: async (args: { blockNumber?: bigint; blockTag?: "latest" }) => {
      calls.push("eth_getBlockByNumber");
      const n = args.blockTag ? 100n : args.blockNumber!;
      const hashOf = (b: bigint) => tx(Number(b) * 10);
      return {
        number: n,
        hash: hashOf(n),
        parentHash: hashOf(n - 1n),
        timestamp: n,
        transactions: mined
          .filter((m) => BigInt(m.block) === n && !m.undoneByCaller)
          .map((m) => ({ to: handler, input: handlerCallData(m.id), hash: m.hash })),
      };
    },
  };
  const chain: LandingChain = {
    client: client as unknown as LandingChain["client"],
    key: `test:${Math.random()}`,
    recentHead: async () => 100n,
  };
  return { calls, chain };
}

const target = { handler, eventId };
const range = { from: 90n, lookback: 256n };

describe("findLanding", () => {
  it("with traces, finds the landing with one trace_filter and confirms it from its transaction's traces", async () => {
    const { calls, chain } = chainOf([
      { hash: tx(1), block: 95, id: otherEvent },
      { hash: tx(2), block: 97, id: eventId },
    ]);
    expect(await findLanding(chain, target, range)).toEqual({ landed: tx(2) });
    expect(calls).toEqual(["trace_filter", "trace_transaction"]);
  });

  it("with traces, reports the searched head when nothing landed: a reverted call, or one a caller undid, is no landing", async () => {
    const { calls, chain } = chainOf([
      { hash: tx(3), block: 95, id: eventId, reverted: true },
      { hash: tx(4), block: 96, id: eventId, undoneByCaller: true },
      { hash: tx(5), block: 97, id: otherEvent },
    ]);
    expect(await findLanding(chain, target, range)).toEqual({ searchedThrough: 100n });
    // The undone call looks fine in trace_filter (its caller is left out); its transaction's traces say no.
    expect(calls).toEqual(["trace_filter", "trace_transaction"]);
  });

  it("without traces, reads the handler's blocks and the candidate's receipt", async () => {
    const { calls, chain } = chainOf([{ hash: tx(6), block: 97, id: eventId }], false);
    expect(await findLanding(chain, target, range)).toEqual({ landed: tx(6) });
    expect(calls).toContain("eth_getTransactionReceipt");
    expect(calls.filter((c) => c === "eth_getBlockByNumber")).toHaveLength(11); // 90..100
  });
});

describe("landsEvent", () => {
  it("with traces, checks a notice's transaction with one trace_transaction", async () => {
    const { calls, chain } = chainOf([
      { hash: tx(7), block: 97, id: eventId },
      { hash: tx(8), block: 98, id: otherEvent },
      { hash: tx(9), block: 99, id: eventId, undoneByCaller: true },
    ]);
    expect(await landsEvent(chain, target, tx(7))).toBe(true);
    expect(await landsEvent(chain, target, tx(8))).toBe(false);
    expect(await landsEvent(chain, target, tx(9))).toBe(false);
    expect(await landsEvent(chain, target, tx(10))).toBe(false);
    expect(calls).toEqual(Array(4).fill("trace_transaction"));
  });

  it("without traces, reads the receipt and the transaction", async () => {
    const { calls, chain } = chainOf(
      [
        { hash: tx(11), block: 97, id: eventId },
        { hash: tx(12), block: 98, id: otherEvent },
        { hash: tx(13), block: 99, id: eventId, reverted: true },
      ],
      false,
    );
    expect(await landsEvent(chain, target, tx(11))).toBe(true);
    expect(await landsEvent(chain, target, tx(12))).toBe(false);
    expect(await landsEvent(chain, target, tx(13))).toBe(false);
    expect(calls.filter((c) => c === "trace_transaction")).toHaveLength(1);
    expect(calls.filter((c) => c === "eth_getTransactionByHash")).toHaveLength(2);
  });
});
