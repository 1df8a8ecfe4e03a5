/**
 * What an aggregator component is given for one submission: the trigger action and the operator's
 * response, read back from the Submission JSON. The trigger itself is taken from the workflow as
 * this node registered it; only the trigger data (which the signature does not cover) comes from
 * the sender, so it is validated like any outside input.
 */
import { z } from "zod";
import type { AggregatorInput } from "../execute/aggregator-types";
import { parseLosslessJson } from "../service/lossless-json";
import type { Hex, Trigger, TriggerData } from "../service/types";
import { SubmissionError } from "./submission";

const U64_MAX = (1n << 64n) - 1n;
const u64 = z
  .union([z.number().int().nonnegative(), z.bigint().nonnegative()])
  .transform((v) => BigInt(v))
  .refine((v) => v <= U64_MAX, "must fit in a u64");
const bytes = z
  .array(z.number().int().min(0).max(255))
  .max(1 << 20)
  .transform((a) => Uint8Array.from(a));
const hex = (n?: number) =>
  z
    .string()
    .regex(n === undefined ? /^0x([0-9a-fA-F]{2})*$/ : new RegExp(`^0x[0-9a-fA-F]{${n * 2}}$`))
    .transform((s) => s.toLowerCase() as Hex);

const triggerData = z.union([
  z.strictObject({
    EvmContractEvent: z.strictObject({
      chain: z.string().min(1).max(64),
      contract_address: hex(20),
      log_data: z.strictObject({ topics: z.array(hex(32)).max(4), data: hex() }),
      tx_hash: hex(32),
      block_number: u64,
      log_index: u64,
      block_hash: hex(32),
      block_timestamp: u64.nullable(),
      tx_index: u64,
    }),
  }),
  z.strictObject({ BlockInterval: z.strictObject({ chain: z.string().min(1).max(64), block_height: u64 }) }),
  z.strictObject({ Cron: z.strictObject({ trigger_time: u64 }) }),
  z.strictObject({ Raw: bytes }),
]);

const aggregatorSubmission = z.object({
  trigger_action: z.object({ data: triggerData }),
  operator_response: z.strictObject({ payload: bytes, ordering: u64.nullable(), event_id_salt: bytes.nullable() }),
});

/**
 * The aggregator input for a Submission JSON (u64 values exact).
 * @throws SubmissionError naming the first field that is wrong
 */
export function readAggregatorInput(
  json: string,
  p: { serviceId: string; workflowId: string; trigger: Trigger; eventId: Hex },
): AggregatorInput {
  let raw: unknown;
  try {
    raw = parseLosslessJson(json);
  } catch (e) {
    throw new SubmissionError(`submission does not parse: ${(e as Error).message}`);
  }
  const parsed = aggregatorSubmission.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new SubmissionError(`${issue.path.join(".") || "(root)"}: ${issue.message}`);
  }
  const { trigger_action, operator_response } = parsed.data;
  return {
    action: {
      config: { service_id: p.serviceId, workflow_id: p.workflowId, trigger: p.trigger },
      data: trigger_action.data as TriggerData,
    },
    response: operator_response,
    eventId: p.eventId,
  };
}
