/**
 * Handler calls read from the RPC node's call traces (the `trace_` namespace of anvil, reth,
 * erigon and Nethermind): WAVS's handlers emit nothing standard, so a landing cannot be found from
 * logs, and traces are the one server-side filter on "calls to this address". One trace_filter
 * answers a landing search over any number of blocks, and one trace_transaction checks a peer's
 * landed notice (call, event and success together). A node without them (geth, most hosted
 * endpoints) answers "unsupported" once; the caller then reads blocks and receipts instead, and
 * this isolate does not ask that chain again.
 */
import {
  BaseError,
  decodeFunctionData,
  type Hex,
  MethodNotFoundRpcError,
  MethodNotSupportedRpcError,
  type PublicClient,
} from "viem";
import { wavsHandlerAbi } from "../chain/wavs-abi";

/** One call trace as the `trace_` namespace returns it (the fields read here). */
export interface RpcTrace {
  type: string;
  action: { to?: Hex; input?: Hex; callType?: string };
  /** Set when this call (and so whatever it did) reverted. */
  error?: string;
  traceAddress: number[];
  transactionHash: Hex;
  blockNumber: number;
  blockHash: Hex;
}

/** A handleSignedEnvelope call found in the traces. */
export interface TracedHandlerCall {
  eventId: Hex;
  txHash: Hex;
  blockNumber: bigint;
  /** Neither the call nor any of its callers present in the traces reverted. */
  succeeded: boolean;
}

type TraceClient = Pick<PublicClient, "request">;

/** Chains (by key) whose RPC node refused a trace method in this isolate. */
const untraced = new Set<string>();

/**
 * The handleSignedEnvelope calls to `handler` in `traces` (any depth), decoded. A call succeeded
 * when neither it nor any call around it in its transaction (a trace whose address is a prefix of
 * its own) carries an error: a reverted caller undoes the call even when the transaction goes on.
 * Only the calls present can be judged: trace_filter leaves out the callers, so the caller of
 * traceHandlerCalls confirms a candidate with traceTransactionCalls. Pure.
 */
export function handlerCallsIn(traces: readonly RpcTrace[], handler: Hex): TracedHandlerCall[] {
  const want = handler.toLowerCase();
  const reverted = traces.filter((t) => t.error !== undefined);
  const undone = (t: RpcTrace) =>
    reverted.some(
      (r) =>
        r.transactionHash === t.transactionHash &&
        r.traceAddress.length <= t.traceAddress.length &&
        r.traceAddress.every((step, i) => t.traceAddress[i] === step),
    );
  const calls: TracedHandlerCall[] = [];
  for (const t of traces) {
    if (t.type !== "call" || t.action.to?.toLowerCase() !== want || !t.action.input) continue;
    if (t.action.callType && t.action.callType !== "call") continue; // a delegatecall runs another's code
    try {
      const call = decodeFunctionData({ abi: wavsHandlerAbi, data: t.action.input });
      if (call.functionName !== "handleSignedEnvelope") continue;
      calls.push({
        eventId: (call.args[0] as { eventId: Hex }).eventId.toLowerCase() as Hex,
        txHash: t.transactionHash,
        blockNumber: BigInt(t.blockNumber),
        succeeded: !undone(t),
      });
    } catch {
      // some other call to the handler
    }
  }
  return calls;
}

/**
 * The traces of calls to `handler` in blocks from `fromBlock` to the RPC node's newest.
 * @returns "unsupported" when the node has no trace_filter @throws on any other RPC failure
 */
export async function traceHandlerCalls(
  client: TraceClient,
  chainKey: string,
  handler: Hex,
  fromBlock: bigint,
): Promise<TracedHandlerCall[] | "unsupported"> {
  const traces = await traceRequest(client, chainKey, "trace_filter", [
    { fromBlock: `0x${fromBlock.toString(16)}`, toAddress: [handler] },
  ]);
  return traces === "unsupported" ? traces : handlerCallsIn(traces, handler);
}

/**
 * The handleSignedEnvelope calls to `handler` in transaction `txHash` (none when the node has no
 * such mined transaction).
 * @returns "unsupported" when the node has no trace_transaction @throws on any other RPC failure
 */
export async function traceTransactionCalls(
  client: TraceClient,
  chainKey: string,
  handler: Hex,
  txHash: Hex,
): Promise<TracedHandlerCall[] | "unsupported"> {
  const traces = await traceRequest(client, chainKey, "trace_transaction", [txHash]);
  return traces === "unsupported" ? traces : handlerCallsIn(traces ?? [], handler);
}

async function traceRequest(
  client: TraceClient,
  chainKey: string,
  method: "trace_filter" | "trace_transaction",
  params: unknown[],
): Promise<RpcTrace[] | "unsupported"> {
  if (untraced.has(chainKey)) return "unsupported";
  try {
    const request = client.request as unknown as (args: { method: string; params: unknown[] }) => Promise<unknown>;
    return ((await request({ method, params })) as RpcTrace[] | null) ?? [];
  } catch (e) {
    if (!isUnsupported(e)) throw e;
    untraced.add(chainKey);
    return "unsupported";
  }
}

/** Whether the node said it has no such method (not a failure of a method it has). */
export function isUnsupported(e: unknown): boolean {
  if (!(e instanceof BaseError)) return false;
  if (e.walk((x) => x instanceof MethodNotFoundRpcError || x instanceof MethodNotSupportedRpcError)) return true;
  const text = `${e.shortMessage} ${e.details}`.toLowerCase();
  return /method not found|not supported|unsupported method|does not exist\/is not available|not enabled/.test(text);
}
