import type { Hex } from "viem";

export interface SignatureData {
  signers: Hex[];
  signatures: Hex[];
  referenceBlock: number;
}

/** SignatureData as WAVS builds it: signers strictly ascending by address, signatures alongside. */
export function buildSignatureData(signatures: Record<Hex, Hex>, referenceBlock: number): SignatureData {
  const entries = Object.entries(signatures) as [Hex, Hex][];
  entries.sort(([a], [b]) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0));
  return {
    signers: entries.map(([signer]) => signer),
    signatures: entries.map(([, signature]) => signature),
    referenceBlock,
  };
}
