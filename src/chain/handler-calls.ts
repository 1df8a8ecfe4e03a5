import { decodeFunctionData, type Hex } from "viem";
import { wavsHandlerAbi } from "./wavs-abi";

/** One handleSignedEnvelope call found in a block: to which handler, for which event id. */
export interface HandlerCall {
  handler: string;
  eventId: string;
  txHash: Hex;
}

/** The handleSignedEnvelope calls in a block's transactions (any handler), decoded. */
export function readHandlerCalls(transactions: readonly { to: Hex | null; input: Hex; hash: Hex }[]): HandlerCall[] {
  const calls: HandlerCall[] = [];
  for (const tx of transactions) {
    if (!tx.to || tx.input.length < 10) continue;
    try {
      const call = decodeFunctionData({ abi: wavsHandlerAbi, data: tx.input });
      if (call.functionName !== "handleSignedEnvelope") continue;
      calls.push({
        handler: tx.to.toLowerCase(),
        eventId: (call.args[0] as { eventId: Hex }).eventId.toLowerCase(),
        txHash: tx.hash,
      });
    } catch {
      // some other call
    }
  }
  return calls;
}
