import type { Hex } from "viem";
import { describe, expect, it } from "vitest";
import type { SignatureData } from "../aggregate/signature-data";
import {
  acceptedReferenceBlock,
  coversAccepted,
  forgetAcceptedQuorum,
  rememberAcceptedQuorum,
} from "./accepted-quorum";

const a = "0x00000000000000000000000000000000000000aa" as Hex;
const b = "0x00000000000000000000000000000000000000bb" as Hex;
const c = "0x00000000000000000000000000000000000000cc" as Hex;
const sig = (n: number) => `0x${n.toString(16).padStart(130, "0")}` as Hex;
/** One signer's signature: A1 is signer a with signature 1. */
const A1: [Hex, Hex] = [a, sig(1)];
const B2: [Hex, Hex] = [b, sig(2)];
const B9: [Hex, Hex] = [b, sig(9)];
const C3: [Hex, Hex] = [c, sig(3)];
const set = (pairs: [Hex, Hex][], referenceBlock = 0): SignatureData => ({
  signers: pairs.map(([s]) => s),
  signatures: pairs.map(([, g]) => g),
  referenceBlock,
});
const handler = "0x9fe46736679d2d9a65f0992f2272de9f3c7fa6e0" as Hex;
const envelope = { eventId: `0x${"11".repeat(20)}`, ordering: `0x${"00".repeat(12)}`, payload: "0x01" } as const;

describe("coversAccepted", () => {
  it("holds for the same set and for a set with more signatures", () => {
    const accepted = set([A1, B2]);
    expect(coversAccepted(accepted, set([A1, B2]))).toBe(true);
    expect(coversAccepted(accepted, set([A1, B2, C3]))).toBe(true);
  });

  it("fails for a set missing an accepted signer, or with another signature from one", () => {
    const accepted = set([A1, B2]);
    expect(coversAccepted(accepted, set([A1, C3]))).toBe(false);
    expect(coversAccepted(accepted, set([A1, B9]))).toBe(false);
  });
});

describe("acceptedReferenceBlock", () => {
  it("answers the accepted reference block for a covering set until forgotten", () => {
    const chain = `test:${Math.random()}`;
    const current = set([A1, B2, C3]);
    expect(acceptedReferenceBlock(chain, handler, envelope, current)).toBeUndefined();
    rememberAcceptedQuorum(
      chain,
      handler,
      envelope,
      set(
        [
          [a, sig(1)],
          [b, sig(2)],
        ],
        41,
      ),
    );
    expect(acceptedReferenceBlock(chain, handler, envelope, current)).toBe(41);
    expect(acceptedReferenceBlock(chain, handler, envelope, set([A1]))).toBeUndefined();
    expect(acceptedReferenceBlock(chain, handler, { ...envelope, payload: "0x02" }, current)).toBeUndefined();
    forgetAcceptedQuorum(chain, handler, envelope);
    expect(acceptedReferenceBlock(chain, handler, envelope, current)).toBeUndefined();
  });
});
