import { encodeFunctionData, type Hex } from "viem";
import { wavsHandlerAbi } from "../../src/chain/wavs-abi";

/** A handler's `handleSignedEnvelope` calldata for `eventId` (a one-byte payload, no signatures): what landing detection looks for. */
export function handlerCallData(eventId: Hex): Hex {
  return encodeFunctionData({
    abi: wavsHandlerAbi,
    functionName: "handleSignedEnvelope",
    args: [
      { eventId, ordering: `0x${"00".repeat(12)}`, payload: "0x01" },
      { signers: [], signatures: [], referenceBlock: 1 },
    ],
  });
}
