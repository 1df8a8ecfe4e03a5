import {
  bytesToHex,
  encodeAbiParameters,
  hashMessage,
  keccak256,
  recoverAddress,
  type Hex,
  type LocalAccount,
} from "viem";
import type { SignatureKind } from "../service/types";

/** The workflow's `signature_kind.prefix`: "eip191", or null for the bare envelope hash. */
export type SignaturePrefix = SignatureKind["prefix"];

/** A prefix that may be absent (data stored before it was kept): absent is "eip191", null stays null. */
export function prefixOrDefault(prefix: SignaturePrefix | undefined): SignaturePrefix {
  return prefix === undefined ? "eip191" : prefix;
}

/** The struct WAVS signs and the service handler receives. */
export interface Envelope {
  eventId: Hex; // bytes20
  ordering: Hex; // bytes12
  payload: Hex;
}

export const envelopeAbiParameter = {
  type: "tuple",
  components: [
    { name: "eventId", type: "bytes20" },
    { name: "ordering", type: "bytes12" },
    { name: "payload", type: "bytes" },
  ],
} as const;

/**
 * Builds the envelope for one component response. Ordering is 12 zero bytes when the response has
 * none, else the u64 big-endian in the first 8 bytes.
 */
export function buildEnvelope(eventId: Uint8Array, payload: Uint8Array, ordering: bigint | null): Envelope {
  const orderingBytes = new Uint8Array(12);
  if (ordering !== null) new DataView(orderingBytes.buffer).setBigUint64(0, ordering, false);
  return { eventId: bytesToHex(eventId), ordering: bytesToHex(orderingBytes), payload: bytesToHex(payload) };
}

/** keccak256(abi.encode(envelope)): the message operators sign (EIP-191-prefixed unless the prefix is null). */
export function hashEnvelope(envelope: Envelope): Hex {
  return keccak256(encodeAbiParameters([envelopeAbiParameter], [envelope]));
}

/** The 32 bytes actually signed: EIP-191's hash of the envelope hash, or (prefix null) the envelope hash itself, as WAVS. */
export function envelopeSigningHash(envelope: Envelope, prefix: SignaturePrefix): Hex {
  const hash = hashEnvelope(envelope);
  return prefix === "eip191" ? hashMessage({ raw: hash }) : hash;
}

/**
 * Signs the envelope as the workflow's signature_kind says: 65 bytes r‖s‖v with v 27/28.
 * @throws when prefix is null and the account cannot sign a bare hash
 */
export async function signEnvelope(
  account: LocalAccount,
  envelope: Envelope,
  prefix: SignaturePrefix = "eip191",
): Promise<Hex> {
  if (prefix === "eip191") return account.signMessage({ message: { raw: hashEnvelope(envelope) } });
  if (!account.sign) throw new Error("this account cannot sign a bare hash (signature_kind.prefix null)");
  return account.sign({ hash: hashEnvelope(envelope) });
}

/** The address that produced `signature` over `envelope` with `prefix`. @throws when the signature is malformed */
export function recoverEnvelopeSigner(
  envelope: Envelope,
  signature: Hex,
  prefix: SignaturePrefix = "eip191",
): Promise<Hex> {
  return recoverAddress({ hash: envelopeSigningHash(envelope, prefix), signature });
}
