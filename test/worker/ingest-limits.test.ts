import { env, SELF } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { openDb } from "../../src/db/client";
import { droppedEvents } from "../../src/db/schema";
import { estimateMessageBytes, MAX_MESSAGE_BYTES, sendTriggerMessages } from "../../src/ingest/enqueue-events";
import { recordDroppedEvents } from "../../src/ingest/record-dropped-events";
import { hmacSha256Hex } from "../../src/ingest/webhook-auth";
import type { TriggerMessage } from "../../src/ingest/trigger-message";
import { addChainWithoutCheck } from "./chain-fixtures";

const SECRET = "whsec-test";
const H = (n: number) => `0x${n.toString(16).padStart(64, "0")}` as const;
const rpcLog = {
  address: `0x${"cd".repeat(20)}`,
  topics: [H(1)],
  data: "0x",
  blockNumber: "0x10",
  blockHash: H(3),
  transactionHash: H(4),
  transactionIndex: "0x0",
  logIndex: "0x0",
  removed: false,
};

async function gzip(text: string): Promise<Uint8Array> {
  return new Uint8Array(
    await new Response(new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer(),
  );
}

async function quicknodeHeaders(json: string, nonce = crypto.randomUUID()) {
  const ts = String(Math.floor(Date.now() / 1000));
  // QuickNode signs nonce ‖ timestamp ‖ the JSON before it compresses it.
  return {
    "content-type": "application/json",
    "x-qn-nonce": nonce,
    "x-qn-timestamp": ts,
    "x-qn-signature": await hmacSha256Hex(SECRET, `${nonce}${ts}${json}`),
  };
}

const post = async (body: BodyInit, headers: Record<string, string>) => {
  const res = await SELF.fetch("http://node/webhooks/test-source?chain=evm:778", { method: "POST", headers, body });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
};

describe("gzip webhook deliveries (QuickNode Streams)", () => {
  it("verifies the signature over the decompressed JSON and refuses other encodings and corrupt gzip", async () => {
    await addChainWithoutCheck(778);
    const json = JSON.stringify([rpcLog]);
    const ok = await post(await gzip(json), { ...(await quicknodeHeaders(json)), "content-encoding": "gzip" });
    expect(ok.status).toBe(202);
    expect(ok.body).toMatchObject({ received: 1 });

    // Signed over the compressed bytes instead: refused.
    const squeezed = await gzip(json);
    const wrong = await post(squeezed, {
      ...(await quicknodeHeaders(new TextDecoder("latin1").decode(squeezed))),
      "content-encoding": "gzip",
    });
    expect(wrong.status).toBe(401);

    const brotli = await post(json, { ...(await quicknodeHeaders(json)), "content-encoding": "br" });
    expect(brotli.status).toBe(415);
    expect(brotli.body.error.code).toBe("unsupported_encoding");

    const corrupt = await post(new Uint8Array([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5]), {
      ...(await quicknodeHeaders(json)),
      "content-encoding": "gzip",
    });
    expect(corrupt.status).toBe(400);
    expect(corrupt.body.error.code).toBe("invalid_encoding");
  });
});

describe("queue limits", () => {
  const message = (dataBytes: number, key: string): TriggerMessage => ({
    type: "trigger",
    version: 1,
    serviceId: "e".repeat(64),
    workflowId: "big",
    eventKey: key,
    data: {
      EvmContractEvent: {
        chain: "evm:778",
        contract_address: `0x${"cd".repeat(20)}` as const,
        log_data: { topics: [H(1)], data: `0x${"ab".repeat(dataBytes)}` },
        tx_hash: H(4),
        block_number: 16n,
        log_index: 0n,
        block_hash: H(3),
        block_timestamp: 1n,
        tx_index: 0n,
      },
    },
    source: "poller",
    seenAt: 0,
  });

  it("refuses a message over 128 KB, records it as dropped, and still sends the rest", async () => {
    const big = message(80 * 1024, `evm:778:big:${crypto.randomUUID()}`);
    const small = message(10, `evm:778:small:${crypto.randomUUID()}`);
    expect(estimateMessageBytes(big)).toBeGreaterThan(MAX_MESSAGE_BYTES);
    const refused = await sendTriggerMessages(env.TRIGGERS as Queue<TriggerMessage>, [small, big], {
      db: openDb(env.DB),
      source: "poller",
    });
    expect(refused).toEqual([big]);
    const rows = await openDb(env.DB).select().from(droppedEvents).where(eq(droppedEvents.eventKey, big.eventKey));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      source: "poller",
      chain: "evm:778",
      reason: expect.stringMatching(/^message_too_large/),
    });
    expect(
      await openDb(env.DB).select().from(droppedEvents).where(eq(droppedEvents.eventKey, small.eventKey)),
    ).toHaveLength(0);
  });

  it("records an oversized log once however often its range is read again, by either path", async () => {
    const db = openDb(env.DB);
    const key = (blockHash: string) => `evm:778:${blockHash}:${H(4)}:0:${"e".repeat(64)}:big`;
    const big = message(80 * 1024, key(H(crypto.getRandomValues(new Uint32Array(1))[0]!)));
    const queue = env.TRIGGERS as Queue<TriggerMessage>;
    for (const source of ["poller", "poller", "webhook:test-source"]) {
      expect(await sendTriggerMessages(queue, [big], { db, source })).toEqual([big]);
    }
    const rows = await db.select().from(droppedEvents).where(eq(droppedEvents.eventKey, big.eventKey));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ source: "poller", reason: expect.stringMatching(/^message_too_large: /) });

    // Another reason for the same event, or the log re-included in another block, is a new record.
    expect(
      await recordDroppedEvents(db, [
        { source: "webhook:x", chain: "evm:778", eventKey: big.eventKey, reason: "log_not_found", at: 1 },
      ]),
    ).toBe(1);
    expect(
      await recordDroppedEvents(db, [
        { source: "webhook:x", chain: "evm:778", eventKey: big.eventKey, reason: "log_not_found", at: 2 },
      ]),
    ).toBe(0);
    const reincluded = message(80 * 1024, key(H(0xbeef)));
    await sendTriggerMessages(queue, [reincluded], { db, source: "poller" });
    await sendTriggerMessages(queue, [reincluded], { db, source: "poller" });
    expect(await db.select().from(droppedEvents).where(eq(droppedEvents.eventKey, reincluded.eventKey))).toHaveLength(
      1,
    );
    expect(await db.select().from(droppedEvents).where(eq(droppedEvents.eventKey, big.eventKey))).toHaveLength(2);
  });
});
