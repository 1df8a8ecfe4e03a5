import { type Hex, MethodNotFoundRpcError, RpcRequestError } from "viem";
import { describe, expect, it } from "vitest";
import { handlerCallData } from "../../test/support/handler-call-data";
import { handlerCallsIn, type RpcTrace, traceHandlerCalls, traceTransactionCalls } from "./handler-traces";

const handler = "0x9fe46736679d2d9a65f0992f2272de9f3c7fa6e0" as Hex;
const batcher = "0x5fbdb2315678afecb367f032d93f642f64180aa3" as Hex;
const eventId = "0x600aa2f4ead908bdb17c6509293ed567e544428b" as Hex;
const input = handlerCallData(eventId);
const tx = (n: number) => `0x${n.toString(16).padStart(64, "0")}` as Hex;
const trace = (over: Partial<RpcTrace> & { to?: Hex; data?: Hex }): RpcTrace => ({
  type: "call",
  action: { to: over.to ?? handler, input: over.data ?? input, callType: "call" },
  traceAddress: [],
  transactionHash: tx(1),
  blockNumber: 5,
  blockHash: tx(50),
  ...over,
});

describe("handlerCallsIn", () => {
  it("decodes a direct handleSignedEnvelope call that succeeded", () => {
    expect(handlerCallsIn([trace({})], handler)).toEqual([
      { eventId, txHash: tx(1), blockNumber: 5n, succeeded: true },
    ]);
  });

  it("counts a call that reverted, or whose transaction reverted around it, as not succeeded", () => {
    const reverted = trace({ error: "Reverted" });
    const outer = trace({ to: batcher, data: "0x12345678", transactionHash: tx(2), error: "Reverted" });
    const inner = trace({ traceAddress: [0], transactionHash: tx(2) });
    expect(handlerCallsIn([reverted, outer, inner], handler).map((c) => c.succeeded)).toEqual([false, false]);
  });

  it("counts a call whose caller reverted as not succeeded, even when the transaction went on", () => {
    const top = trace({ to: batcher, data: "0x12345678", transactionHash: tx(6) });
    const wrapper = trace({
      to: batcher,
      data: "0x12345678",
      traceAddress: [1],
      transactionHash: tx(6),
      error: "Reverted",
    });
    const undone = trace({ traceAddress: [1, 0], transactionHash: tx(6) });
    const sibling = trace({ traceAddress: [0], transactionHash: tx(6) });
    expect(handlerCallsIn([top, wrapper, undone, sibling], handler).map((c) => c.succeeded)).toEqual([false, true]);
  });

  it("finds the call inside another contract's transaction, and ignores other calls and other handlers", () => {
    const outer = trace({ to: batcher, data: "0x12345678", transactionHash: tx(3) });
    const inner = trace({ traceAddress: [0], transactionHash: tx(3) });
    const other = trace({ data: "0xdeadbeef", transactionHash: tx(4) });
    const elsewhere = trace({ to: batcher, transactionHash: tx(5) });
    expect(handlerCallsIn([outer, inner, other, elsewhere], handler)).toEqual([
      { eventId, txHash: tx(3), blockNumber: 5n, succeeded: true },
    ]);
  });
});

describe("trace requests", () => {
  it("ask trace_filter from a block to the newest, for calls to the handler", async () => {
    const asked: unknown[] = [];
    const client = {
      request: async (args: unknown) => {
        asked.push(args);
        return [trace({})];
      },
    } as unknown as Parameters<typeof traceHandlerCalls>[0];
    const calls = await traceHandlerCalls(client, `test:${Math.random()}`, handler, 16n);
    expect(calls).toHaveLength(1);
    expect(asked).toEqual([{ method: "trace_filter", params: [{ fromBlock: "0x10", toAddress: [handler] }] }]);
  });

  it("answer unsupported when the node lacks the method, and stop asking that chain", async () => {
    let asked = 0;
    const client = {
      request: async () => {
        asked++;
        throw new MethodNotFoundRpcError(new Error("the method trace_filter does not exist/is not available"));
      },
    } as unknown as Parameters<typeof traceHandlerCalls>[0];
    const key = `test:${Math.random()}`;
    expect(await traceHandlerCalls(client, key, handler, 1n)).toBe("unsupported");
    expect(await traceTransactionCalls(client, key, handler, tx(1))).toBe("unsupported");
    expect(asked).toBe(1);
  });

  it("throw any other RPC failure (never read as no landing)", async () => {
    const client = {
      request: async () => {
        throw new RpcRequestError({
          body: {},
          url: "http://rpc",
          error: { code: -32000, message: "header not found" },
        });
      },
    } as unknown as Parameters<typeof traceHandlerCalls>[0];
    await expect(traceTransactionCalls(client, `test:${Math.random()}`, handler, tx(1))).rejects.toThrow();
  });

  it("read a transaction the node does not know as no calls", async () => {
    const client = { request: async () => null } as unknown as Parameters<typeof traceHandlerCalls>[0];
    expect(await traceTransactionCalls(client, `test:${Math.random()}`, handler, tx(9))).toEqual([]);
  });
});
