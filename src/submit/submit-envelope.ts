import { BaseError, ContractFunctionRevertedError, type Hex } from "viem";
import type { SignatureData } from "../aggregate/signature-data";
import { publicClientFor } from "../chain/rpc";
import { wavsHandlerAbi } from "../chain/wavs-abi";
import type { ChainSettings } from "../config";
import type { Envelope } from "../sign/envelope";
import { acceptedReferenceBlock, rememberAcceptedQuorum } from "./accepted-quorum";
import { describeRevert } from "./describe-revert";
import { recentHead } from "./recent-head";
import { readHandlerManager } from "./submit-target";

export type QuorumCheck =
  | { ok: true; signatureData: SignatureData }
  | { ok: false; reason: string; signerWeight?: bigint; thresholdWeight?: bigint; totalWeight?: bigint };

/**
 * Preflights the envelope with the handler's service manager (`validate`, an eth_call) at
 * referenceBlock = head − 1 (the head read at most 1 s ago), unless this isolate saw the manager
 * accept these signatures, or some of them, in the last ACCEPTED_REUSE_MS (accepted-quorum.ts:
 * the set is then returned at that acceptance's reference block, unasked). InsufficientQuorum is
 * an answer, not an error: wait for signatures.
 * @throws on any other revert or RPC failure
 */
export async function checkQuorum(
  chain: ChainSettings,
  handler: Hex,
  envelope: Envelope,
  build: (referenceBlock: number) => SignatureData,
): Promise<QuorumCheck> {
  const client = publicClientFor(chain);
  const manager = await readHandlerManager(chain, handler);
  const known = acceptedReferenceBlock(chain.key, handler, envelope, build(0));
  if (known !== undefined) return { ok: true, signatureData: build(known) };
  // The reference block need only be past: a head read within the last second serves.
  const latest = await recentHead(chain);
  const signatureData = build(Number(latest > 0n ? latest - 1n : 0n));
  try {
    await client.readContract({
      address: manager,
      abi: wavsHandlerAbi,
      functionName: "validate",
      args: [envelope, signatureData],
    });
    rememberAcceptedQuorum(chain.key, handler, envelope, signatureData);
    return { ok: true, signatureData };
  } catch (e) {
    const revert = e instanceof BaseError ? e.walk((x) => x instanceof ContractFunctionRevertedError) : null;
    if (revert instanceof ContractFunctionRevertedError && revert.data?.errorName === "InsufficientQuorum") {
      const [signerWeight, thresholdWeight, totalWeight] = revert.data.args as [bigint, bigint, bigint];
      return { ok: false, reason: "InsufficientQuorum", signerWeight, thresholdWeight, totalWeight };
    }
    throw e;
  }
}

/** A signer whose signature the service manager refuses on its own, and why. */
export interface RejectedSigner {
  signer: Hex;
  reason: string;
}

/**
 * Asks the manager's `validate` about each signature alone (at `referenceBlock`): a signer whose
 * lone signature reverts for another reason than quorum (SignerNotRegistered after a
 * deregistration, InvalidSignature for a form that slipped in) is rejected. Called only after the
 * whole set reverted, so it costs one eth_call per signer on that rare path.
 * @throws on RPC failure (retryable)
 */
export async function findRejectedSigners(
  chain: ChainSettings,
  manager: Hex,
  envelope: Envelope,
  signatures: Record<Hex, Hex>,
  referenceBlock: number,
): Promise<RejectedSigner[]> {
  const client = publicClientFor(chain);
  const verdicts = await Promise.all(
    (Object.entries(signatures) as [Hex, Hex][]).map(async ([signer, signature]) => {
      try {
        await client.readContract({
          address: manager,
          abi: wavsHandlerAbi,
          functionName: "validate",
          args: [envelope, { signers: [signer], signatures: [signature], referenceBlock }],
        });
        return undefined;
      } catch (e) {
        const revert = e instanceof BaseError ? e.walk((x) => x instanceof ContractFunctionRevertedError) : null;
        if (!(revert instanceof ContractFunctionRevertedError)) throw e;
        if (revert.data?.errorName === "InsufficientQuorum") return undefined;
        return { signer, reason: describeRevert(e) };
      }
    }),
  );
  return verdicts.filter((v): v is RejectedSigner => v !== undefined);
}
