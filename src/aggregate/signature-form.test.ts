import { privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { buildEnvelope, recoverEnvelopeSigner, signEnvelope } from "../sign/envelope";
import { checkSignatureForm, malleate } from "./signature-form";

const account = privateKeyToAccount(`0x${"11".repeat(32)}`);
const envelope = buildEnvelope(new Uint8Array(20).fill(1), new TextEncoder().encode("x"), null);

describe("checkSignatureForm", () => {
  it("accepts what the node signs (low s, v 27/28)", async () => {
    expect(checkSignatureForm(await signEnvelope(account, envelope))).toEqual({ ok: true });
  });

  it("refuses the malleable twin, which still recovers to the same signer", async () => {
    const twin = malleate(await signEnvelope(account, envelope));
    expect(await recoverEnvelopeSigner(envelope, twin)).toBe(account.address);
    expect(checkSignatureForm(twin)).toMatchObject({ ok: false, rule: "low_s" });
  });

  it("refuses v 0/1, which viem recovers too", async () => {
    const sig = await signEnvelope(account, envelope);
    const v01 = `${sig.slice(0, 130)}0${parseInt(sig.slice(130), 16) - 27}` as `0x${string}`;
    expect(await recoverEnvelopeSigner(envelope, v01)).toBe(account.address);
    expect(checkSignatureForm(v01)).toMatchObject({ ok: false, rule: "v_27_28" });
  });

  it("refuses a signature of the wrong length", () => {
    expect(checkSignatureForm("0x1234")).toMatchObject({ ok: false, rule: "length" });
  });
});
