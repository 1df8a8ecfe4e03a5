import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { openDb } from "../db/client";
import { ensureSigningKey } from "../service/service-registry";
import type { TaskStepRow, TaskUpdate } from "../db/tasks";
import { holdsOwnSignature, isDeferredStep, taskRowChange, TimelineWriter } from "./timeline-writes";

function recordingWriter(fail?: () => boolean) {
  const writes: { rows: TaskStepRow[]; change: TaskUpdate | undefined }[] = [];
  const writer = new TimelineWriter(async (rows, change) => {
    if (fail?.()) throw new Error("D1 down");
    writes.push({ rows, change });
  });
  return { writer, writes };
}

describe("isDeferredStep", () => {
  it("defers a signature's arrival and an estimated wait, nothing else", () => {
    expect(isDeferredStep("signature_received", { signer: "0x1" })).toBe(true);
    expect(isDeferredStep("waiting_for_quorum", { estimated: true })).toBe(true);
    expect(isDeferredStep("waiting_for_quorum", { signer_weight: 1n })).toBe(false);
    expect(isDeferredStep("quorum_reached", {})).toBe(false);
  });
});

describe("taskRowChange", () => {
  it("writes what a fresh writer is given, and later only what differs from its last write", () => {
    expect(taskRowChange(undefined, { status: "signed" })).toEqual({ status: "signed" });
    expect(taskRowChange(undefined, {})).toBeUndefined();
    expect(taskRowChange({ status: "signed" }, { status: "signed" })).toBeUndefined();
    expect(taskRowChange({ status: "signed" }, { status: "submitted", txHash: "0xa" })).toEqual({
      status: "submitted",
      txHash: "0xa",
    });
    expect(taskRowChange({ status: "submitted", txHash: "0xa" }, { txHash: "0xb" })).toEqual({ txHash: "0xb" });
  });
});

describe("TimelineWriter", () => {
  it("writes the signatures and the estimated wait with the quorum, in order, with their own times", async () => {
    const { writer, writes } = recordingWriter();
    await writer.record("signature_received", {}, { signer: "0x1" }, 10);
    await writer.record("waiting_for_quorum", { status: "signed" }, { estimated: true }, 11);
    await writer.record("signature_received", {}, { signer: "0x2" }, 20);
    expect(writes).toEqual([]);
    await writer.record("quorum_reached", { status: "signed" }, { rank: 0 }, 21);
    expect(writes).toHaveLength(1);
    expect(writes[0]!.rows.map((r) => [r.step, r.at])).toEqual([
      ["signature_received", 10],
      ["waiting_for_quorum", 11],
      ["signature_received", 20],
      ["quorum_reached", 21],
    ]);
    expect(writes[0]!.change).toEqual({ status: "signed" });
  });

  it("writes the task's row again only when a step changes it", async () => {
    const { writer, writes } = recordingWriter();
    await writer.record("quorum_reached", { status: "signed" }, {}, 1);
    await writer.record("claim_yielded", {}, {}, 2);
    await writer.record("waiting_for_quorum", { status: "signed" }, { signer_weight: 1n }, 3);
    await writer.record("tx_sent", { status: "submitted", txHash: "0xa" }, {}, 4);
    await writer.record("landed", { status: "landed" }, {}, 5);
    expect(writes.map((w) => w.change)).toEqual([
      { status: "signed" },
      undefined,
      undefined,
      { status: "submitted", txHash: "0xa" },
      { status: "landed" },
    ]);
  });

  it("keeps the rows of a failed write for the next step", async () => {
    let down = true;
    const { writer, writes } = recordingWriter(() => down);
    await writer.record("signature_received", {}, {}, 1);
    await expect(writer.record("quorum_reached", { status: "signed" }, {}, 2)).rejects.toThrow(/D1 down/);
    down = false;
    await writer.record("tx_sent", { status: "submitted", txHash: "0xa" }, {}, 3);
    expect(writes).toHaveLength(1);
    expect(writes[0]!.rows.map((r) => r.step)).toEqual(["signature_received", "quorum_reached", "tx_sent"]);
    expect(writes[0]!.change).toEqual({ status: "submitted", txHash: "0xa" });
  });
});

describe("TimelineWriter told what the row says", () => {
  it("writes no row for a status another writer is known to have written, and writes a change", async () => {
    const { writer, writes } = recordingWriter();
    expect(writer.knowsRow()).toBe(false);
    writer.assumeWritten({ status: "signed" });
    expect(writer.knowsRow()).toBe(true);
    await writer.record("quorum_reached", { status: "signed" }, {}, 1);
    await writer.record("tx_sent", { status: "submitted", txHash: "0xa" }, {}, 2);
    expect(writes.map((w) => w.change)).toEqual([undefined, { status: "submitted", txHash: "0xa" }]);
  });
});

describe("holdsOwnSignature", () => {
  it("tells this node's signature among a task's signatures, whatever the case of the address", async () => {
    const db = openDb(env.DB);
    const manager = { evm: { chain: "evm:7", address: "0x00000000000000000000000000000000000000d4" as const } };
    const { serviceId, evmAddress } = await ensureSigningKey(db, env.WAVS_SIGNING_MNEMONIC, manager);
    const entry = { signature: "0x" as const, weight: "1", at: 0 };
    const task = (signers: `0x${string}`[]) => ({
      target: { serviceId } as never,
      signatures: Object.fromEntries(signers.map((s) => [s, entry])),
    });
    const peer = "0x00000000000000000000000000000000000000e5";
    expect(await holdsOwnSignature(db, env.WAVS_SIGNING_MNEMONIC, task([peer]))).toBe(false);
    expect(
      await holdsOwnSignature(
        db,
        env.WAVS_SIGNING_MNEMONIC,
        task([peer, evmAddress.toUpperCase().replace("0X", "0x") as `0x${string}`]),
      ),
    ).toBe(true);
    // A service this node holds no key for: the row is written as before.
    expect(
      await holdsOwnSignature(db, env.WAVS_SIGNING_MNEMONIC, {
        ...task([evmAddress]),
        target: { serviceId: "ff".repeat(32) } as never,
      }),
    ).toBe(false);
  });
});
