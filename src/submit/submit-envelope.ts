import { BaseError, ContractFunctionRevertedError, keccak256, type Hex } from "viem";
import type { SignatureData } from "../aggregate/signature-data";
import { publicClientFor } from "../chain/rpc";
import { wavsHandlerAbi } from "../chain/wavs-abi";
import type { ChainSettings } from "../config";
import type { Envelope } from "../sign/envelope";
import { describeRevert } from "./describe-revert";
import { recentHead } from "./recent-head";
import { readHandlerManager } from "./submit-target";

export type QuorumCheck =
  | { ok: true; signatureData: SignatureData }
  | { ok: false; reason: string; signerWeight?: bigint; thresholdWeight?: bigint; totalWeight?: bigint };

/**
 * How long a set of signatures the manager accepted is taken as accepted again without asking
 * (ms): the node that reaches quorum asks `validate`, claims, and preflights again at submit with
 * the same set, one eth_call per event for nothing. The transaction's gas estimate runs the
 * manager's checks once more, so an operator deregistered meanwhile is still caught before sending.
 */
const ACCEPTED_REUSE_MS = 5_000;
const MAX_ACCEPTED = 10_000;
const accepted = new Map<string, { at: number; signatureData: SignatureData }>();

/** The same envelope under the same manager with the same signatures, whatever the reference block. */
function acceptedKey(chain: ChainSettings, manager: Hex, envelope: Envelope, data: SignatureData): string {
  const payload = keccak256(envelope.payload);
  return [
    chain.key,
    manager.toLowerCase(),
    envelope.eventId,
    envelope.ordering,
    payload,
    ...data.signers,
    ...data.signatures,
  ]
    .join(":")
    .toLowerCase();
}

/**
 * Preflights the envelope with the handler's service manager (`validate`, an eth_call) at
 * referenceBlock = head − 1 (the head read at most 1 s ago), unless this isolate saw the manager
 * accept the very same signatures in the last ACCEPTED_REUSE_MS (their SignatureData, with its
 * slightly older reference block, is returned again). InsufficientQuorum is an answer, not an
 * error: wait for signatures.
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
  const key = acceptedKey(chain, manager, envelope, build(0));
  const hit = accepted.get(key);
  if (hit && Date.now() - hit.at < ACCEPTED_REUSE_MS) return { ok: true, signatureData: hit.signatureData };
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
    if (accepted.size >= MAX_ACCEPTED) accepted.clear();
    accepted.set(key, { at: Date.now(), signatureData });
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
