import {
  bytesToHex,
  encodeAbiParameters,
  hashMessage,
  keccak256,
  recoverAddress,
  type Hex,
  type LocalAccount,
} from "viem";

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

/** keccak256(abi.encode(envelope)): the message operators sign (with the EIP-191 prefix). */
export function hashEnvelope(envelope: Envelope): Hex {
  return keccak256(encodeAbiParameters([envelopeAbiParameter], [envelope]));
}

/** EIP-191 signature over the envelope hash: 65 bytes r‖s‖v with v 27/28. */
export function signEnvelope(account: LocalAccount, envelope: Envelope): Promise<Hex> {
  return account.signMessage({ message: { raw: hashEnvelope(envelope) } });
}

/** The address that produced `signature` over `envelope`. @throws when the signature is malformed */
export function recoverEnvelopeSigner(envelope: Envelope, signature: Hex): Promise<Hex> {
  return recoverAddress({ hash: hashMessage({ raw: hashEnvelope(envelope) }), signature });
}
