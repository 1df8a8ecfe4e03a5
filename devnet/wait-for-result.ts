import { createPublicClient, hexToString, http, type Address, type Hex } from "viem";
import { simpleSubmitAbi } from "./contracts/simple-submit";

/**
 * Waits until SimpleSubmit holds a signed result for `triggerId`, then returns it with the event id
 * from its envelope.
 * @throws Error after `timeoutMs`
 */
export async function waitForResult(params: {
  rpcUrl: string;
  submit: Address;
  triggerId: bigint;
  timeoutMs?: number;
}): Promise<{ data: string; eventId: Hex }> {
  const client = createPublicClient({ transport: http(params.rpcUrl) });
  const deadline = Date.now() + (params.timeoutMs ?? 30_000);
  while (Date.now() < deadline) {
    const ready = await client.readContract({
      address: params.submit,
      abi: simpleSubmitAbi,
      functionName: "isValidTriggerId",
      args: [params.triggerId],
    });
    if (ready) {
      const signed = await client.readContract({
        address: params.submit,
        abi: simpleSubmitAbi,
        functionName: "getSignedData",
        args: [params.triggerId],
      });
      return { data: hexToString(signed.data), eventId: signed.envelope.eventId };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no result onchain for trigger ${params.triggerId} after ${params.timeoutMs ?? 30_000} ms`);
}
