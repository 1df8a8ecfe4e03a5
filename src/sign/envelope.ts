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
  let signature: Hex;
  if (prefix === "eip191") signature = await account.signMessage({ message: { raw: hashEnvelope(envelope) } });
  else if (!account.sign) throw new Error("this account cannot sign a bare hash (signature_kind.prefix null)");
  else signature = await account.sign({ hash: hashEnvelope(envelope) });
  rememberSigner(envelopeSigningHash(envelope, prefix), signature, account.address);
  return signature;
}

/**
 * Signers by (signed hash, signature), per isolate. Recovering a secp256k1 public key was the
 * largest part of a node's CPU under bench:e2e (its intake and its TaskAggregator each recover every
 * submission, its own included); recovery is a pure function of the two, so a repeat is answered
 * here, and a signature this node made is known without recovering it.
 */
const knownSigners = new Map<string, Hex>();
const MAX_KNOWN_SIGNERS = 4096;

function rememberSigner(hash: Hex, signature: Hex, signer: Hex): void {
  if (knownSigners.size >= MAX_KNOWN_SIGNERS) knownSigners.delete(knownSigners.keys().next().value!);
  knownSigners.set(`${hash}:${signature.toLowerCase()}`, signer);
}

/** The address that produced `signature` over `envelope` with `prefix`. @throws when the signature is malformed */
export async function recoverEnvelopeSigner(
  envelope: Envelope,
  signature: Hex,
  prefix: SignaturePrefix = "eip191",
): Promise<Hex> {
  const hash = envelopeSigningHash(envelope, prefix);
  const known = knownSigners.get(`${hash}:${signature.toLowerCase()}`);
  if (known) return known;
  const signer = await recoverAddress({ hash, signature });
  rememberSigner(hash, signature, signer);
  return signer;
}
