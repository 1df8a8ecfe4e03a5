/**
 * The trigger data a Submission JSON carries (which the signature does not cover), validated like
 * any outside input: u64 values exact, byte arrays bounded.
 */
import { z } from "zod";
import type { Hex } from "../service/types";

const U64_MAX = (1n << 64n) - 1n;

/** A u64 as a JSON number or (lossless JSON) bigint. */
export const u64Value = z
  .union([z.number().int().nonnegative(), z.bigint().nonnegative()])
  .transform((v) => BigInt(v))
  .refine((v) => v <= U64_MAX, "must fit in a u64");

/** serde's Vec<u8>: a JSON array of numbers (at most 1 MiB of them). */
export const byteList = z
  .array(z.number().int().min(0).max(255))
  .max(1 << 20)
  .transform((a) => Uint8Array.from(a));

const hex = (n?: number) =>
  z
    .string()
    .regex(n === undefined ? /^0x([0-9a-fA-F]{2})*$/ : new RegExp(`^0x[0-9a-fA-F]{${n * 2}}$`))
    .transform((s) => s.toLowerCase() as Hex);

/** WAVS's TriggerData, for the variants this node runs (PascalCase, as serde writes them). */
export const triggerDataSchema = z.union([
  z.strictObject({
    EvmContractEvent: z.strictObject({
      chain: z.string().min(1).max(64),
      contract_address: hex(20),
      log_data: z.strictObject({ topics: z.array(hex(32)).max(4), data: hex() }),
      tx_hash: hex(32),
      block_number: u64Value,
      log_index: u64Value,
      block_hash: hex(32),
      block_timestamp: u64Value.nullable(),
      tx_index: u64Value,
    }),
  }),
  z.strictObject({ BlockInterval: z.strictObject({ chain: z.string().min(1).max(64), block_height: u64Value }) }),
  z.strictObject({ Cron: z.strictObject({ trigger_time: u64Value }) }),
  z.strictObject({ Raw: byteList }),
]);
