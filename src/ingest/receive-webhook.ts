import { and, eq, lt } from "drizzle-orm";
import { publicClientFor } from "../chain/rpc";
import type { ChainSettings } from "../config";
import type { Db } from "../db/client";
import { webhookDeliveries } from "../db/schema";
import { log } from "../log";
import type { TriggerMessage } from "./trigger-message";
import { evmTriggersOnChain, pausedServiceIds } from "../service/service-registry";
import { buildLogMessages, sendTriggerMessages } from "./enqueue-events";
import { logEventKey } from "./log-to-trigger-data";
import { recordDroppedEvents, type DroppedEventRow } from "./record-dropped-events";
import { verifyLogs } from "./verify-log";
import type { ClaimedLog } from "./webhook-payloads";

export interface WebhookOutcome {
  received: number;
  /** Logs some registered workflow listens to. */
  matched: number;
  enqueued: number;
  deferred: number;
  dropped: number;
}

const DELIVERY_SWEEP_MS = 60_000;
let lastDeliverySweep = 0;

/**
 * Remembers a delivery id for replay protection.
 * @returns false when the id was seen before (a replay)
 */
export async function rememberDelivery(db: Db, source: string, deliveryId: string, now = Date.now()): Promise<boolean> {
  // Ids older than twice the window cannot come back: their timestamps are refused as stale. Swept
  // once a minute per isolate rather than on every delivery (a statement saved per event).
  if (now - lastDeliverySweep >= DELIVERY_SWEEP_MS) {
    await db.delete(webhookDeliveries).where(lt(webhookDeliveries.receivedAt, now - 10 * 60 * 1000));
    lastDeliverySweep = now;
  }
  const inserted = await db
    .insert(webhookDeliveries)
    .values({ source, deliveryId, receivedAt: now })
    .onConflictDoNothing()
    .returning({ id: webhookDeliveries.deliveryId });
  return inserted.length > 0;
}

/** Forgets a delivery whose processing failed, so the provider's retry is not taken for a replay. */
export async function forgetDelivery(db: Db, source: string, deliveryId: string): Promise<void> {
  await db
    .delete(webhookDeliveries)
    .where(and(eq(webhookDeliveries.source, source), eq(webhookDeliveries.deliveryId, deliveryId)));
}

/**
 * Verifies each claimed log a registered workflow listens to against the node's own RPC, enqueues
 * the verified ones (same event keys as the poller, so either path gives one task), records the
 * forged or reorged ones, and leaves those not yet at the confirmation depth to the poller.
 * @throws RPC or queue errors: nothing was recorded as done, the provider should retry
 */
export async function ingestWebhookLogs(
  db: Db,
  queue: Queue<TriggerMessage>,
  chain: ChainSettings,
  source: string,
  logs: readonly ClaimedLog[],
): Promise<WebhookOutcome> {
  const triggers = await evmTriggersOnChain(db, chain.key);
  const paused = await pausedServiceIds(db);
  const active = triggers.filter((t) => !paused.has(t.serviceId));
  const listened = new Set(triggers.map((t) => `${t.address}:${t.eventHash}`));
  const matching = logs.filter((l) => listened.has(`${l.address}:${l.topics[0] ?? ""}`));

  const verdicts = await verifyLogs(publicClientFor(chain), chain.confirmations, matching);
  const messages: TriggerMessage[] = [];
  const dropped: DroppedEventRow[] = [];
  let deferred = 0;
  for (const [i, claimed] of matching.entries()) {
    const verdict = verdicts[i]!;
    if (verdict.outcome === "verified") {
      messages.push(...buildLogMessages(chain.key, verdict.log, verdict.blockTimestamp, active, "webhook"));
    } else if (verdict.outcome === "dropped") {
      dropped.push({
        source: `webhook:${source}`,
        chain: chain.key,
        eventKey: logEventKey(chain.key, { ...claimed, transactionIndex: 0 }),
        reason: verdict.reason,
        at: Date.now(),
      });
    } else {
      deferred++;
    }
  }
  if (dropped.length > 0) {
    await recordDroppedEvents(db, dropped);
    for (const d of dropped)
      log("warn", "webhook event dropped", {
        subsys: "ingest",
        chain: chain.key,
        source,
        event_key: d.eventKey,
        reason: d.reason,
      });
  }
  const refused = await sendTriggerMessages(queue, messages, { db, source: `webhook:${source}` });
  return {
    received: logs.length,
    matched: matching.length,
    enqueued: messages.length - refused.length,
    deferred,
    dropped: dropped.length + refused.length,
  };
}
