/**
 * Webhooks on real parts: deliveries signed as Alchemy, QuickNode and the generic scheme, each log
 * checked against anvil by the node under `wrangler dev` (confirmation depth 1), deduplicated with
 * the poller, forged and reorged logs dropped and recorded.
 */
import { createHmac, randomUUID } from "node:crypto";
import { appendFileSync } from "node:fs";
import { createPublicClient, createTestClient, http, type Hex } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDevnet, type RunningDevnet } from "../../devnet/index";
import { api, fireTrigger, pollOnce, settledTasks } from "./ingest-helpers";
import { toJsonRpcLog } from "../../devnet/index";

const SECRET = "whsec-node-test";
let running: RunningDevnet;
let testClient: ReturnType<typeof createTestClient>;
let client: ReturnType<typeof createPublicClient>;

beforeAll(async () => {
  running = await startDevnet({
    pollIntervalMs: 0,
    // Random ports: other test runs on this machine prefer the default ones.
    anvilPort: 0,
    nodePort: 0,
    confirmations: 1,
    extraVars: { WEBHOOK_SECRET_INDEXER: SECRET },
    onLog: (line) => {
      if (process.env.DEBUG_INGEST) appendFileSync(process.env.DEBUG_INGEST, `${line}\n`);
    },
  });
  testClient = createTestClient({ mode: "anvil", transport: http(running.devnet.chain.rpc_url) });
  client = createPublicClient({ transport: http(running.devnet.chain.rpc_url) });
}, 180_000);
afterAll(async () => {
  await running?.stop();
});

/** The trigger's NewTrigger log as JSON-RPC serves it. */
async function rpcLogOf(txHash: Hex) {
  const receipt = await client.getTransactionReceipt({ hash: txHash });
  return toJsonRpcLog(receipt.logs[0]!);
}

type Outcome = { received: number; matched: number; enqueued: number; deferred: number; dropped: number };

async function deliver(
  format: "generic" | "alchemy" | "quicknode",
  logs: Awaited<ReturnType<typeof rpcLogOf>>[],
  deliveryId = randomUUID(),
) {
  const node = running.devnet.nodes[0]!;
  const ts = String(Math.floor(Date.now() / 1000));
  let body: string;
  const headers: Record<string, string> = { "content-type": "application/json" };
  const hmac = (msg: string) => createHmac("sha256", SECRET).update(msg).digest("hex");
  if (format === "generic") {
    body = JSON.stringify({ logs });
    Object.assign(headers, {
      "x-wavs-timestamp": ts,
      "x-wavs-delivery": deliveryId,
      "x-wavs-signature": `sha256=${hmac(`${ts}.${body}`)}`,
    });
  } else if (format === "quicknode") {
    body = JSON.stringify([logs]);
    Object.assign(headers, {
      "x-qn-nonce": deliveryId,
      "x-qn-timestamp": ts,
      "x-qn-signature": hmac(`${deliveryId}${ts}${body}`),
    });
  } else {
    const first = logs[0]!;
    body = JSON.stringify({
      webhookId: "wh_test",
      id: deliveryId,
      createdAt: new Date().toISOString(),
      type: "GRAPHQL",
      event: {
        data: {
          block: {
            hash: first.blockHash,
            number: Number(first.blockNumber),
            logs: logs.map((l) => ({
              data: l.data,
              topics: l.topics,
              index: Number(l.logIndex),
              account: { address: l.address },
              transaction: { hash: l.transactionHash, index: 0 },
            })),
          },
        },
        sequenceNumber: "1",
      },
    });
    headers["x-alchemy-signature"] = hmac(body);
  }
  const res = await fetch(`${node.url}/webhooks/indexer?chain=${running.devnet.chain.key}`, {
    method: "POST",
    headers,
    body,
    signal: AbortSignal.timeout(30_000),
  });
  return { status: res.status, body: (await res.json()) as Outcome & { error?: { code: string } } };
}

describe("webhooks", { timeout: 240_000 }, () => {
  it("enqueues a verified log once, whether it comes by webhook, again by another provider format, or by the poller", async () => {
    const fired = await fireTrigger(running, 6);
    await testClient.mine({ blocks: 1 });
    const log = await rpcLogOf(fired.txHash);

    const first = await deliver("generic", [log]);
    expect(first.status).toBe(202);
    expect(first.body).toEqual({ received: 1, matched: 1, enqueued: 1, deferred: 0, dropped: 0 });
    expect(await settledTasks(running, 1)).toHaveLength(1);

    expect((await deliver("alchemy", [log])).body.enqueued).toBe(1);
    expect((await deliver("quicknode", [log])).body.enqueued).toBe(1);
    await pollOnce(running);
    expect(await settledTasks(running, 1)).toHaveLength(1);
  });

  it("refuses a replayed delivery", async () => {
    const fired = await fireTrigger(running, 7);
    await testClient.mine({ blocks: 1 });
    const id = randomUUID();
    expect((await deliver("quicknode", [await rpcLogOf(fired.txHash)], id)).status).toBe(202);
    const replay = await deliver("quicknode", [await rpcLogOf(fired.txHash)], id);
    expect(replay.status).toBe(409);
    expect(replay.body.error?.code).toBe("replayed_delivery");
  });

  it("leaves a log above the confirmation depth to the poller", async () => {
    const fired = await fireTrigger(running, 8);
    const res = await deliver("generic", [await rpcLogOf(fired.txHash)]);
    expect(res.body).toMatchObject({ matched: 1, enqueued: 0, deferred: 1 });
  });

  it("drops and records logs that are not on chain as claimed: forged data, unknown tx, reorged block", async () => {
    const fired = await fireTrigger(running, 9);
    await testClient.mine({ blocks: 1 });
    const real = await rpcLogOf(fired.txHash);
    const forgedData = { ...real, data: `${real.data.slice(0, -2)}ff` as Hex };
    const unknownTx = { ...real, transactionHash: `0x${"12".repeat(32)}` as Hex };
    const res = await deliver("generic", [forgedData, unknownTx]);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ matched: 2, enqueued: 0, dropped: 2 });

    const snapshot = await testClient.snapshot();
    const doomed = await fireTrigger(running, 10);
    await testClient.mine({ blocks: 1 });
    const doomedLog = await rpcLogOf(doomed.txHash);
    await testClient.revert({ id: snapshot });
    await testClient.mine({ blocks: 3 });
    const reorged = await deliver("alchemy", [doomedLog]);
    expect(reorged.body).toMatchObject({ matched: 1, enqueued: 0, dropped: 1 });

    const { dropped_events } = await api(running).get<{
      dropped_events: { reason: string; source: string; event_key: string }[];
    }>("/dev/dropped-events");
    expect(dropped_events.map((d) => d.reason).sort()).toEqual([
      "block_not_canonical",
      "log_mismatch",
      "transaction_not_in_block",
    ]);
    expect(dropped_events.every((d) => d.source === "webhook:indexer")).toBe(true);
    expect(dropped_events.map((d) => d.event_key)).toContain(
      `${running.devnet.chain.key}:${doomedLog.blockHash}:${doomedLog.transactionHash}:${Number(doomedLog.logIndex)}`,
    );
    const health = await api(running).get<{ dropped_events: number }>("/health");
    expect(health.dropped_events).toBe(3);
  });
});
