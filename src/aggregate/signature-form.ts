import type { Hex } from "viem";

/** secp256k1's group order n over 2: OpenZeppelin's ECDSA (and so `validate`) refuses any s above it. */
const HALF_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;

export type SignatureFormCheck = { ok: true } | { ok: false; rule: "length" | "low_s" | "v_27_28"; message: string };

/**
 * Whether a 65-byte r‖s‖v signature has the one form the service manager's `validate` accepts
 * (OpenZeppelin ECDSA): s in the lower half of the order and v 27 or 28. viem also recovers the
 * malleable twin (high s) and v 0/1, which `validate` then rejects with InvalidSignature, so such a
 * signature must never be counted.
 */
export function checkSignatureForm(signature: Hex): SignatureFormCheck {
  if (!/^0x[0-9a-fA-F]{130}$/.test(signature))
    return { ok: false, rule: "length", message: "a signature is 65 bytes r‖s‖v" };
  const s = BigInt(`0x${signature.slice(66, 130)}`);
  if (s > HALF_ORDER)
    return {
      ok: false,
      rule: "low_s",
      message: "s is in the upper half of the curve order (malleable form): the service manager rejects it",
    };
  const v = parseInt(signature.slice(130, 132), 16);
  if (v !== 27 && v !== 28)
    return { ok: false, rule: "v_27_28", message: `v is ${v}; the service manager accepts only 27 or 28` };
  return { ok: true };
}

/** The other valid-looking form of the same signature (s → n − s, v flipped): for tests and probes. */
export function malleate(signature: Hex): Hex {
  const n = HALF_ORDER * 2n + 1n;
  const s = BigInt(`0x${signature.slice(66, 130)}`);
  const v = parseInt(signature.slice(130, 132), 16);
  return `${signature.slice(0, 66)}${(n - s).toString(16).padStart(64, "0")}${(v === 27 ? 28 : 27).toString(16)}` as Hex;
}
