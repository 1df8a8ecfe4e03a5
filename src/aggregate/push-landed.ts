/**
 * "Landed" pushed to peers: the node that sees a task's transaction land (its own, or one it found
 * on the chain) tells every other aggregating node once, so their standbys stop asking
 * (`GET /aggregator/tasks/…` every grace period was most of the traffic between nodes). A notice
 * proves nothing by itself: the receiver checks the transaction on its own RPC before adopting
 * it, and a lost notice costs only a poll, which remains as the fallback. This file has the
 * notice's wire form; peer-client.ts sends it.
 */
import type { Hex } from "viem";
import { z } from "zod";

/** How many tasks one notice may carry. */
export const MAX_LANDED_PER_NOTICE = 64;

const hexOf = (bytes: number) =>
  z
    .string()
    .regex(new RegExp(`^0x[0-9a-fA-F]{${bytes * 2}}$`), `0x and ${bytes * 2} hex digits`)
    .transform((s) => s.toLowerCase() as Hex);

/** One landed task: which task (as TaskAggregators are named) and the transaction that landed it. */
export const landedTaskSchema = z.strictObject({
  service_id: z.string().regex(/^[0-9a-f]{64}$/, "service ids are 64 lowercase hex digits"),
  workflow_id: z.string().regex(/^[a-z0-9_-]{3,36}$/, "workflow ids are 3–36 of [a-z0-9_-]"),
  event_id: hexOf(20),
  chain: z.string().regex(/^evm:\d{1,20}$/, 'chain looks like "evm:31337"'),
  handler: hexOf(20),
  tx_hash: hexOf(32),
});

/** The body of `POST /aggregator/landed`. */
export const landedNoticeSchema = z.strictObject({
  tasks: z.array(landedTaskSchema).min(1).max(MAX_LANDED_PER_NOTICE),
});

export type LandedTask = z.output<typeof landedTaskSchema>;
