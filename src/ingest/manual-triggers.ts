import { inArray, isNotNull, and } from "drizzle-orm";
import { hexToBytes } from "viem";
import { z } from "zod";
import type { Db } from "../db/client";
import { seenEvents } from "../db/schema";
import type { TriggerMessage } from "./trigger-message";
import { serviceIdSchema, triggerSchema, u64, workflowIdSchema } from "../service/service-json";
import type { Hex, TriggerData } from "../service/types";

const hex = (bytes?: number) =>
  z
    .string()
    .regex(
      bytes === undefined ? /^0x([0-9a-fA-F]{2})*$/ : new RegExp(`^0x[0-9a-fA-F]{${bytes * 2}}$`),
      bytes === undefined ? "must be 0x-prefixed hex bytes" : `must be 0x and ${bytes * 2} hex digits`,
    );

/** Most tasks one `POST /dev/triggers` may start (WAVS sets no bound). */
export const MAX_MANUAL_COUNT = 1000;

/** WAVS's TriggerData as serde writes it: PascalCase variants, bytes of Raw as an array of u8. */
export const triggerDataSchema = z.union([
  z.strictObject({
    // WAVS: a JSON array of byte values. A 0x hex string is accepted too, for curl users.
    Raw: z.union([z.array(z.number().int().min(0).max(255)).max(256 * 1024), hex()]),
  }),
  z.strictObject({ BlockInterval: z.strictObject({ chain: z.string().min(1), block_height: u64 }) }),
  z.strictObject({ Cron: z.strictObject({ trigger_time: u64 }) }),
  z.strictObject({
    EvmContractEvent: z.strictObject({
      chain: z.string().min(1),
      contract_address: hex(20),
      log_data: z.strictObject({ topics: z.array(hex(32)).max(4), data: hex() }),
      tx_hash: hex(32),
      block_number: u64,
      log_index: u64,
      block_hash: hex(32),
      block_timestamp: u64.nullable().default(null),
      tx_index: u64,
    }),
  }),
]);

/** WAVS's SimulatedTriggerRequest (`POST /dev/triggers`). */
export const simulatedTriggerRequestSchema = z.strictObject({
  service_id: serviceIdSchema,
  workflow_id: workflowIdSchema,
  trigger: triggerSchema,
  data: triggerDataSchema,
  count: z.number().int().min(1).max(MAX_MANUAL_COUNT).default(1),
  wait_for_completion: z.boolean(),
});

export type SimulatedTriggerRequest = z.output<typeof simulatedTriggerRequestSchema>;

/** The request's data as the node's TriggerData (bytes as Uint8Array, addresses lowercase). */
export function toTriggerData(data: SimulatedTriggerRequest["data"]): TriggerData {
  if ("Raw" in data) {
    const raw = data.Raw;
    return { Raw: typeof raw === "string" ? hexToBytes(raw as Hex) : Uint8Array.from(raw) };
  }
  if ("EvmContractEvent" in data) {
    const d = data.EvmContractEvent;
    return {
      EvmContractEvent: {
        ...d,
        contract_address: d.contract_address.toLowerCase() as Hex,
        log_data: { topics: d.log_data.topics as Hex[], data: d.log_data.data as Hex },
        tx_hash: d.tx_hash as Hex,
        block_hash: d.block_hash as Hex,
      },
    };
  }
  return data;
}

/**
 * `count` messages for one workflow, each with its own key: WAVS runs the trigger `count` times.
 * The data is the same each time, so without an event_id_salt from the component the runs share
 * one event id (as in WAVS).
 */
export function buildManualMessages(
  req: SimulatedTriggerRequest,
  now = Date.now(),
  requestId = crypto.randomUUID(),
): TriggerMessage[] {
  const data = toTriggerData(req.data);
  return Array.from({ length: req.count }, (_, i) => ({
    type: "trigger" as const,
    version: 1 as const,
    serviceId: req.service_id,
    workflowId: req.workflow_id,
    eventKey: `manual:${requestId}:${i}`,
    data,
    source: "manual" as const,
    seenAt: now,
  }));
}

/** How many of the keys the consumer has finished (executed and handed on, or given up on). */
export async function countDoneEvents(db: Db, eventKeys: readonly string[]): Promise<number> {
  let done = 0;
  // D1 binds at most 100 parameters per statement.
  for (let i = 0; i < eventKeys.length; i += 90) {
    const rows = await db
      .select({ key: seenEvents.eventKey })
      .from(seenEvents)
      .where(and(inArray(seenEvents.eventKey, eventKeys.slice(i, i + 90)), isNotNull(seenEvents.doneAt)));
    done += rows.length;
  }
  return done;
}
