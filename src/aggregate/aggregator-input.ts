/**
 * What an aggregator component is given for one submission: the trigger action and the operator's
 * response, read back from the SubmissionInput a task keeps (the payload taken from the envelope)
 * or from a whole Submission JSON (what tasks and timers stored before). The trigger itself is taken from the workflow as
 * this node registered it; only the trigger data (which the signature does not cover) comes from
 * the sender, so it is validated like any outside input.
 */
import { hexToBytes } from "viem";
import { z } from "zod";
import type { AggregatorInput } from "../execute/aggregator-types";
import { parseLosslessJson } from "../service/lossless-json";
import type { Hex, Trigger, TriggerData } from "../service/types";
import { SubmissionError } from "./submission";
import { byteList as bytes, triggerDataSchema as triggerData, u64Value as u64 } from "./trigger-data-schema";

const aggregatorSubmission = z.object({
  trigger_action: z.object({ data: triggerData }),
  operator_response: z.strictObject({
    payload: bytes.optional(),
    ordering: u64.nullable(),
    event_id_salt: bytes.nullable(),
  }),
});

/**
 * The aggregator input for a SubmissionInput or a Submission JSON (u64 values exact); a
 * SubmissionInput's payload is `p.payload` (the envelope's).
 * @throws SubmissionError naming the first field that is wrong
 */
export function readAggregatorInput(
  json: string,
  p: { serviceId: string; workflowId: string; trigger: Trigger; eventId: Hex; payload: Hex },
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
    response: {
      payload: operator_response.payload ?? hexToBytes(p.payload),
      ordering: operator_response.ordering,
      event_id_salt: operator_response.event_id_salt,
    },
    eventId: p.eventId,
  };
}
