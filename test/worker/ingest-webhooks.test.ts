import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { hmacSha256Hex, verifyWebhookSignature, webhookSecretName } from "../../src/ingest/webhook-auth";
import { parseWebhookBody, WebhookPayloadError } from "../../src/ingest/webhook-payloads";
import { addChainWithoutCheck } from "./chain-fixtures";

const SECRET = "whsec-test";
const enc = new TextEncoder();
const H = (n: number) => `0x${n.toString(16).padStart(64, "0")}`;
const ADDRESS = `0x${"ab".repeat(20)}`;

const rpcLog = {
  address: ADDRESS,
  topics: [H(1), H(2)],
  data: "0x1234",
  blockNumber: "0x10",
  blockHash: H(3),
  transactionHash: H(4),
  transactionIndex: "0x0",
  logIndex: "0x2",
  removed: false,
};

/** Alchemy custom webhook, as its docs show it (GraphQL query selecting block { hash number logs { … } }). */
const alchemyBody = {
  webhookId: "wh_test",
  id: "whevt_test_1",
  createdAt: new Date().toISOString(),
  type: "GRAPHQL",
  event: {
    data: {
      block: {
        hash: H(3),
        number: 16,
        timestamp: 1_700_000_000,
        logs: [
          {
            data: "0x1234",
            topics: [H(1), H(2)],
            index: 2,
            account: { address: ADDRESS },
            transaction: { hash: H(4), index: 0 },
          },
        ],
      },
    },
    sequenceNumber: "10000000000578619000",
  },
};

const expected = {
  address: ADDRESS,
  topics: [H(1), H(2)],
  data: "0x1234",
  blockNumber: 16n,
  blockHash: H(3),
  transactionHash: H(4),
  logIndex: 2,
};

async function genericHeaders(body: string, opts: { ts?: number; delivery?: string; secret?: string } = {}) {
  const ts = String(opts.ts ?? Math.floor(Date.now() / 1000));
  return {
    "content-type": "application/json",
    "x-wavs-timestamp": ts,
    "x-wavs-delivery": opts.delivery ?? crypto.randomUUID(),
    "x-wavs-signature": `sha256=${await hmacSha256Hex(opts.secret ?? SECRET, `${ts}.${body}`)}`,
  };
}

describe("webhook payloads", () => {
  it("reads generic JSON-RPC logs, bare or under `logs`, skipping removed ones", () => {
    expect(parseWebhookBody("generic", [rpcLog]).logs).toEqual([expected]);
    expect(parseWebhookBody("generic", { logs: [rpcLog, { ...rpcLog, removed: true }] }).logs).toEqual([expected]);
  });

  it("reads Alchemy custom webhooks: block-level logs and per-transaction logs, with the delivery id", () => {
    const parsed = parseWebhookBody("alchemy", alchemyBody);
    expect(parsed.logs).toEqual([expected]);
    expect(parsed.deliveryId).toBe("whevt_test_1");
    const perTx = structuredClone(alchemyBody) as unknown as { event: { data: { block: Record<string, unknown> } } };
    perTx.event.data.block.transactions = [{ hash: H(4), logs: perTx.event.data.block.logs }];
    delete perTx.event.data.block.logs;
    expect(parseWebhookBody("alchemy", perTx).logs).toEqual([expected]);
  });

  it("reads QuickNode Streams: logs datasets (flat or per block), receipts datasets, wrapped in data or not", () => {
    expect(parseWebhookBody("quicknode", [rpcLog]).logs).toEqual([expected]);
    expect(parseWebhookBody("quicknode", [[rpcLog], []]).logs).toEqual([expected]);
    expect(parseWebhookBody("quicknode", { data: [{ transactionHash: H(4), logs: [rpcLog] }] }).logs).toEqual([
      expected,
    ]);
  });

  it("names the bad field", () => {
    expect(() => parseWebhookBody("generic", [{ ...rpcLog, blockHash: "0x12" }])).toThrow(/0\.blockHash/);
    expect(() => parseWebhookBody("alchemy", { ...alchemyBody, event: {} })).toThrow(WebhookPayloadError);
  });
});

describe("webhook signatures", () => {
  const body = enc.encode('{"logs":[]}');

  it("accepts each provider's scheme with the right secret and refuses a wrong one", async () => {
    const ts = String(Math.floor(Date.now() / 1000));
    const alchemy = new Headers({ "x-alchemy-signature": await hmacSha256Hex(SECRET, body) });
    expect(await verifyWebhookSignature(alchemy, body, SECRET)).toMatchObject({ ok: true, format: "alchemy" });
    expect(await verifyWebhookSignature(alchemy, body, "other")).toMatchObject({ ok: false, code: "bad_signature" });

    const qnSig = await hmacSha256Hex(SECRET, `nonce-1${ts}{"logs":[]}`);
    const qn = new Headers({ "x-qn-signature": qnSig, "x-qn-nonce": "nonce-1", "x-qn-timestamp": ts });
    expect(await verifyWebhookSignature(qn, body, SECRET)).toMatchObject({
      ok: true,
      format: "quicknode",
      deliveryId: "nonce-1",
    });
    const tampered = enc.encode('{"logs":[1]}');
    expect(await verifyWebhookSignature(qn, tampered, SECRET)).toMatchObject({ ok: false, code: "bad_signature" });

    const generic = new Headers(await genericHeaders('{"logs":[]}', { delivery: "d-1" }));
    expect(await verifyWebhookSignature(generic, body, SECRET)).toMatchObject({
      ok: true,
      format: "generic",
      deliveryId: "d-1",
    });
    expect(await verifyWebhookSignature(new Headers(), body, SECRET)).toMatchObject({
      ok: false,
      code: "missing_signature",
    });
  });

  it("refuses a correctly signed delivery outside the time window", async () => {
    const old = new Headers(await genericHeaders('{"logs":[]}', { ts: Math.floor(Date.now() / 1000) - 3600 }));
    expect(await verifyWebhookSignature(old, body, SECRET)).toMatchObject({ ok: false, code: "stale_delivery" });
  });

  it("names secrets per source", () => {
    expect(webhookSecretName("test-source")).toBe("WEBHOOK_SECRET_TEST_SOURCE");
  });
});

describe("POST /webhooks/{source}", () => {
  const post = async (path: string, body: string, headers: Record<string, string>) => {
    const res = await SELF.fetch(`http://node${path}`, { method: "POST", headers, body });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  const addChain = () => addChainWithoutCheck(777);

  it("answers 202 for a good delivery, 409 for its replay, 401 for a bad or stale signature, 404 for an unknown source", async () => {
    await addChain();
    const body = JSON.stringify({ logs: [rpcLog] });
    const headers = await genericHeaders(body);
    // No workflow listens to this log, so nothing needs the chain: it is received and ignored.
    const ok = await post("/webhooks/test-source?chain=evm:777", body, headers);
    expect(ok.status).toBe(202);
    expect(ok.body).toEqual({ received: 1, matched: 0, enqueued: 0, deferred: 0, dropped: 0 });

    const replay = await post("/webhooks/test-source?chain=evm:777", body, headers);
    expect(replay.status).toBe(409);
    expect(replay.body.error.code).toBe("replayed_delivery");

    const forged = await post(
      "/webhooks/test-source?chain=evm:777",
      body,
      await genericHeaders(body, { secret: "guess" }),
    );
    expect(forged.status).toBe(401);
    expect(forged.body.error.code).toBe("bad_signature");

    const stale = await post("/webhooks/test-source?chain=evm:777", body, await genericHeaders(body, { ts: 1 }));
    expect(stale.status).toBe(401);
    expect(stale.body.error.code).toBe("stale_delivery");

    const unknown = await post("/webhooks/nobody?chain=evm:777", body, headers);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("unknown_webhook_source");

    const noChain = await post("/webhooks/test-source", body, await genericHeaders(body));
    expect(noChain.status).toBe(400);
  });

  it("refuses a signed but malformed payload with 422", async () => {
    await addChain();
    const body = JSON.stringify({ logs: [{ ...rpcLog, topics: "nope" }] });
    const res = await post("/webhooks/test-source?chain=evm:777", body, await genericHeaders(body));
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("invalid_payload");
  });
});
