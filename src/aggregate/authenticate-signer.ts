import { zeroAddress, type Hex } from "viem";
import { publicClientFor } from "../chain/rpc";
import { wavsServiceManagerAbi } from "../chain/abi/wavs-service-manager";
import type { ChainSettings } from "../config";

export type SignerStanding = { registered: true; operator: Hex; weight: bigint } | { registered: false; reason: string };

/**
 * Looks the signing key up in the service manager: its latest operator and that operator's weight.
 * @throws on RPC failure (retryable)
 */
export async function readSignerStanding(chain: ChainSettings, manager: Hex, signer: Hex): Promise<SignerStanding> {
  const client = publicClientFor(chain);
  const operator = await client.readContract({
    address: manager,
    abi: wavsServiceManagerAbi,
    functionName: "getLatestOperatorForSigningKey",
    args: [signer],
  });
  if (operator === zeroAddress) return { registered: false, reason: "the signer is not a registered signing key" };
  const weight = await client.readContract({
    address: manager,
    abi: wavsServiceManagerAbi,
    functionName: "getOperatorWeight",
    args: [operator],
  });
  if (weight === 0n) return { registered: false, reason: "the signer's operator has no weight" };
  return { registered: true, operator, weight };
}
