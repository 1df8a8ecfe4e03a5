import { hashMessage, hexToBytes, keccak256, recoverAddress, type Hex } from "viem";
import { describe, expect, it } from "vitest";
import { buildEnvelope, hashEnvelope, recoverEnvelopeSigner, signEnvelope } from "./envelope";
import { deriveServiceSigner, parseSubmitterCredential } from "./signing-keys";

const mnemonic = "test test test test test test test test test test test junk";
const eventId = hexToBytes("0x600aa2f4ead908bdb17c6509293ed567e544428b");

describe("envelope", () => {
  it("puts the ordering big-endian in the first 8 of 12 bytes", () => {
    expect(buildEnvelope(eventId, new Uint8Array(), null).ordering).toBe(`0x${"00".repeat(12)}`);
    expect(buildEnvelope(eventId, new Uint8Array(), 258n).ordering).toBe("0x000000000000010200000000");
  });

  it("hashes abi.encode(envelope) as a tuple with a head offset", () => {
    const envelope = buildEnvelope(eventId, new TextEncoder().encode("hi"), null);
    // keccak256 of: offset 0x20 | eventId (left-aligned) | ordering | offset 0x60 | len 2 | "hi"
    const encoded =
      "0x" +
      "20".padStart(64, "0") +
      "600aa2f4ead908bdb17c6509293ed567e544428b".padEnd(64, "0") +
      "".padEnd(64, "0") +
      "60".padStart(64, "0") +
      "2".padStart(64, "0") +
      "6869".padEnd(64, "0");
    expect(hashEnvelope(envelope)).toBe(keccak256(encoded as `0x${string}`));
  });

  it("signs with EIP-191 and recovers the signer", async () => {
    const signer = deriveServiceSigner(mnemonic, 1);
    const envelope = buildEnvelope(eventId, new TextEncoder().encode('{"y":4}'), null);
    const signature = await signEnvelope(signer, envelope);
    expect(hexToBytes(signature)).toHaveLength(65);
    expect([27, 28]).toContain(hexToBytes(signature)[64]);
    expect(await recoverEnvelopeSigner(envelope, signature)).toBe(signer.address);
    expect(await recoverAddress({ hash: hashMessage({ raw: hashEnvelope(envelope) }), signature })).toBe(
      signer.address,
    );
  });

  it("with prefix null signs the bare keccak256 of the encoded envelope, as WAVS", async () => {
    const signer = deriveServiceSigner(mnemonic, 1);
    const envelope = buildEnvelope(eventId, new TextEncoder().encode('{"y":4}'), null);
    const signature = await signEnvelope(signer, envelope, null);
    expect([27, 28]).toContain(hexToBytes(signature)[64]);
    expect(signature).not.toBe(await signEnvelope(signer, envelope, "eip191"));
    expect(await recoverAddress({ hash: hashEnvelope(envelope), signature })).toBe(signer.address);
    expect(await recoverEnvelopeSigner(envelope, signature, null)).toBe(signer.address);
  });

  it("knows its own signatures, and recovers anything else afresh", async () => {
    const [a, b] = [deriveServiceSigner(mnemonic, 2), deriveServiceSigner(mnemonic, 3)];
    const envelope = buildEnvelope(eventId, new TextEncoder().encode('{"y":9}'), null);
    const other = buildEnvelope(eventId, new TextEncoder().encode('{"y":10}'), null);
    const byA = await signEnvelope(a, envelope);
    expect(await recoverEnvelopeSigner(envelope, byA)).toBe(a.address);
    expect(await recoverEnvelopeSigner(envelope, byA.toUpperCase().replace("0X", "0x") as Hex)).toBe(a.address);
    // the same signature over another envelope, or under the other prefix, is another signer
    expect(await recoverEnvelopeSigner(other, byA)).not.toBe(a.address);
    expect(await recoverEnvelopeSigner(envelope, byA, null)).not.toBe(a.address);
    const byB = await signEnvelope(b, other);
    expect(await recoverEnvelopeSigner(other, byB)).toBe(b.address);
  });
});

describe("keys", () => {
  it("derives m/44'/60'/0'/0/i", () => {
    // anvil's well-known accounts 0 and 1 for this mnemonic
    expect(deriveServiceSigner(mnemonic, 0).address).toBe("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
    expect(deriveServiceSigner(mnemonic, 1).address).toBe("0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
  });

  it("never echoes a bad mnemonic", () => {
    expect(() => deriveServiceSigner("not a mnemonic secret-words", 0)).toThrow(/not a valid BIP-39/);
    try {
      deriveServiceSigner("not a mnemonic secret-words", 0);
    } catch (e) {
      expect(String(e)).not.toContain("secret-words");
    }
  });

  it("accepts a private key or a mnemonic as the submitter credential", () => {
    expect(parseSubmitterCredential(mnemonic).address).toBe("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
    const key = `0x${"11".repeat(32)}`;
    expect(parseSubmitterCredential(` ${key}`).address).toBe(parseSubmitterCredential(key).address);
    expect(() => parseSubmitterCredential("nope")).toThrow(/neither/);
  });

  it("derives each key once per isolate (BIP-39 stretching costs 2048 rounds of PBKDF2)", () => {
    expect(deriveServiceSigner(` ${mnemonic} `, 7)).toBe(deriveServiceSigner(mnemonic, 7));
    expect(deriveServiceSigner(mnemonic, 8).address).not.toBe(deriveServiceSigner(mnemonic, 7).address);
    expect(parseSubmitterCredential(mnemonic)).toBe(parseSubmitterCredential(mnemonic));
  });
});
