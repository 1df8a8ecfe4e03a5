import { keccak256, type Hex } from "viem";
import type { SignatureData } from "../aggregate/signature-data";
import type { Envelope } from "../sign/envelope";

/**
 * How long a set of signatures the manager accepted is taken as accepted again without asking
 * (ms): the node that reaches quorum asks `validate`, claims, and preflights again at submit with
 * the same set (or that set plus signatures that arrived meanwhile), one eth_call per event for
 * nothing. The transaction's gas estimate runs the manager's checks once more, so a signer
 * deregistered meanwhile or a bad added signature is still caught before anything is sent.
 */
export const ACCEPTED_REUSE_MS = 5_000;
const MAX_ENTRIES = 10_000;
const accepted = new Map<string, { at: number; signatureData: SignatureData }>();

/** One envelope on one chain's handler, whatever the signatures. */
function envelopeKey(chainKey: string, handler: Hex, envelope: Envelope): string {
  return [chainKey, handler, envelope.eventId, envelope.ordering, keccak256(envelope.payload)].join(":").toLowerCase();
}

/** Whether every (signer, signature) pair the manager accepted is also in `current`. Pure. */
export function coversAccepted(acceptedSet: SignatureData, current: SignatureData): boolean {
  const now = new Map(current.signers.map((s, i) => [s.toLowerCase(), current.signatures[i]?.toLowerCase()]));
  return acceptedSet.signers.every((s, i) => now.get(s.toLowerCase()) === acceptedSet.signatures[i]?.toLowerCase());
}

/** Remembers that the manager accepted `signatureData` for this envelope. */
export function rememberAcceptedQuorum(
  chainKey: string,
  handler: Hex,
  envelope: Envelope,
  signatureData: SignatureData,
): void {
  if (accepted.size >= MAX_ENTRIES) accepted.clear();
  accepted.set(envelopeKey(chainKey, handler, envelope), { at: Date.now(), signatureData });
}

/**
 * The reference block of an acceptance in the last ACCEPTED_REUSE_MS that `current` covers (the
 * accepted signatures, maybe more), or undefined.
 */
export function acceptedReferenceBlock(
  chainKey: string,
  handler: Hex,
  envelope: Envelope,
  current: SignatureData,
): number | undefined {
  const hit = accepted.get(envelopeKey(chainKey, handler, envelope));
  if (!hit || Date.now() - hit.at >= ACCEPTED_REUSE_MS) return undefined;
  return coversAccepted(hit.signatureData, current) ? hit.signatureData.referenceBlock : undefined;
}

/** Forgets this envelope's acceptance: the chain refused the set since (the gas estimate reverted). */
export function forgetAcceptedQuorum(chainKey: string, handler: Hex, envelope: Envelope): void {
  accepted.delete(envelopeKey(chainKey, handler, envelope));
}
