import type { Db } from "../db/client";
import { log } from "../log";
import type { TriggerMessage } from "./trigger-message";
import { logEventKey, logToTriggerData, type ChainLog } from "./log-to-trigger-data";
import { recordDroppedEvents } from "./record-dropped-events";

/** Cloudflare Queues: at most 100 messages and 256 KB per sendBatch. */
export const MAX_BATCH_MESSAGES = 100;
export const MAX_BATCH_BYTES = 256 * 1024;
/** Cloudflare Queues: at most 128 KB per message. */
export const MAX_MESSAGE_BYTES = 128 * 1024;
/** Room for per-message overhead the platform adds to each message's body. */
const PER_MESSAGE_OVERHEAD = 128;

/** A workflow listening for a contract event (a row of the evm trigger index). */
export interface EvmTriggerRow {
  serviceId: string;
  workflowId: string;
  address: string;
  eventHash: string;
}

/**
 * One message per workflow the log matches (address and topic0), keyed by
 * chain:blockHash:txHash:logIndex:service:workflow so the poller, a webhook and a queue redelivery
 * all dedupe onto one task.
 */
export function buildLogMessages(
  chain: string,
  log: ChainLog,
  blockTimestamp: bigint,
  triggers: readonly EvmTriggerRow[],
  source: TriggerMessage["source"],
  now = Date.now(),
): TriggerMessage[] {
  const address = log.address.toLowerCase();
  const topic0 = log.topics[0]?.toLowerCase();
  const key = logEventKey(chain, log);
  return triggers
    .filter((t) => t.address === address && t.eventHash === topic0)
    .map((t) => ({
      type: "trigger",
      version: 1,
      serviceId: t.serviceId,
      workflowId: t.workflowId,
      eventKey: `${key}:${t.serviceId}:${t.workflowId}`,
      data: logToTriggerData(chain, log, blockTimestamp),
      source,
      seenAt: now,
    }));
}

/** Rough serialised size of a message: its JSON with bigints and bytes as text, plus overhead. */
export function estimateMessageBytes(msg: TriggerMessage): number {
  const json = JSON.stringify(msg, (_, v) =>
    typeof v === "bigint" ? v.toString() : v instanceof Uint8Array ? "x".repeat(v.length * 2) : v,
  );
  return json.length + PER_MESSAGE_OVERHEAD;
}

/** Splits messages into sendBatch-sized groups: ≤ 100 messages and ≤ 256 KB each. */
export function batchMessages(messages: readonly TriggerMessage[]): TriggerMessage[][] {
  const batches: TriggerMessage[][] = [];
  let current: TriggerMessage[] = [];
  let bytes = 0;
  for (const msg of messages) {
    const size = estimateMessageBytes(msg);
    if (current.length > 0 && (current.length === MAX_BATCH_MESSAGES || bytes + size > MAX_BATCH_BYTES)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(msg);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/**
 * Enqueues the messages within the queue's limits. A message over 128 KB (a log with a very large
 * data field) cannot be sent at all: it is refused, logged, and, given `record`, written to dropped
 * events (once per event, however often its range is read again), rather than failing the whole
 * send again on every retry.
 * @returns the messages refused as too large
 * @throws what the queue throws; messages of earlier batches may already be sent (the consumer dedupes)
 */
export async function sendTriggerMessages(
  queue: Queue<TriggerMessage>,
  messages: readonly TriggerMessage[],
  record?: { db: Db; source: string },
): Promise<TriggerMessage[]> {
  const refused = messages.filter((m) => estimateMessageBytes(m) > MAX_MESSAGE_BYTES);
  const sendable = refused.length === 0 ? messages : messages.filter((m) => !refused.includes(m));
  if (refused.length > 0) await recordOversized(refused, record);
  for (const batch of batchMessages(sendable)) {
    // v8 serialisation carries bigints and byte arrays (the default, json, cannot).
    await queue.sendBatch(batch.map((body) => ({ body, contentType: "v8" as const })));
  }
  return refused;
}

async function recordOversized(refused: readonly TriggerMessage[], record?: { db: Db; source: string }) {
  const now = Date.now();
  const rows = refused.map((m) => ({
    source: record?.source ?? "unknown",
    chain: chainOf(m),
    eventKey: m.eventKey,
    reason: `message_too_large: about ${estimateMessageBytes(m)} bytes, over the queue's ${MAX_MESSAGE_BYTES} per message`,
    at: now,
  }));
  for (const row of rows)
    log("warn", "event refused: too large for a queue message", {
      subsys: "ingest",
      service_id: refused[0]!.serviceId,
      event_key: row.eventKey,
      reason: row.reason,
    });
  if (record) await recordDroppedEvents(record.db, rows);
}

function chainOf(m: TriggerMessage): string {
  const d = m.data;
  return "EvmContractEvent" in d ? d.EvmContractEvent.chain : "BlockInterval" in d ? d.BlockInterval.chain : "";
}
