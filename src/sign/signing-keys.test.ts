import { describe, expect, it } from "vitest";
import { deriveServiceSigner, parseSubmitterCredential } from "./signing-keys";

const MNEMONIC = "test test test test test test test test test test test junk";

describe("signing keys", () => {
  it("derives each service's key once per isolate, at its own index", () => {
    const first = deriveServiceSigner(MNEMONIC, 7);
    expect(deriveServiceSigner(` ${MNEMONIC} `, 7)).toBe(first);
    const other = deriveServiceSigner(MNEMONIC, 8);
    expect(other.address).not.toBe(first.address);
    // anvil's well-known first account: m/44'/60'/0'/0/0 of this mnemonic
    expect(deriveServiceSigner(MNEMONIC, 0).address).toBe("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
  });

  it("reads the paying credential as a mnemonic or a private key, once", () => {
    expect(parseSubmitterCredential(MNEMONIC).address).toBe("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
    expect(parseSubmitterCredential(MNEMONIC)).toBe(parseSubmitterCredential(MNEMONIC));
    const key = `0x${"11".repeat(32)}`;
    expect(parseSubmitterCredential(key).address).toBe(parseSubmitterCredential(` ${key}`).address);
  });

  it("refuses a bad secret without repeating it", () => {
    expect(() => deriveServiceSigner("not a mnemonic at all", 0)).toThrow(/^WAVS_SIGNING_MNEMONIC is not a valid/);
    expect(() => parseSubmitterCredential("0x1234")).toThrow(/^WAVS_AGGREGATOR_EVM_CREDENTIAL is neither/);
    try {
      parseSubmitterCredential("0x1234");
    } catch (e) {
      expect(String(e)).not.toContain("0x1234");
    }
  });
});
