import { isAddress, type Hex } from "viem";
import { chainByKey } from "../config";
import { openDb } from "../db/client";
import { taskSteps } from "../db/schema";
import { log } from "../log";
import { findService } from "../service/service-registry";
import type { Service } from "../service/types";
import { recoverEnvelopeSigner } from "../sign/envelope";
import { readSignerStanding } from "./authenticate-signer";
import type { ParsedSubmission } from "./submission";
import type { AggregationStatus } from "./task-aggregator";

/** A submission this node will never count; `status` is the HTTP status it answers with. */
export class SubmissionRefusedError extends Error {
  override name = "SubmissionRefusedError";
  constructor(
    readonly status: 403 | 404 | 409 | 422,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Where a workflow's results land. */
export interface SubmitTarget {
  chain: string;
  handler: Hex;
}

/**
 * The workflow's submit target. Until aggregator components run here, it is read from the aggregator
 * component's `chain` and `service_handler` config, as WAVS's simple aggregator does.
 * @throws SubmissionRefusedError 422 when the workflow does not submit or the config is incomplete
 */
export function readSubmitTarget(service: Service, workflowId: string): SubmitTarget {
  const submit = service.workflows[workflowId]?.submit;
  if (!submit || submit === "none") {
    throw new SubmissionRefusedError(422, "workflow_does_not_submit", `workflow ${workflowId} has no aggregator`);
  }
  const { chain, service_handler: handler } = submit.aggregator.component.config;
  if (!chain || !handler || !isAddress(handler)) {
    throw new SubmissionRefusedError(
      422,
      "invalid_aggregator_config",
      "the aggregator component config needs `chain` and `service_handler` (a 0x address)",
    );
  }
  return { chain, handler: handler.toLowerCase() as Hex };
}

/** The TaskAggregator's name for one event and submit target. */
export function taskAggregatorName(eventId: Hex, target: SubmitTarget): string {
  return `${eventId.toLowerCase()}:${target.chain}:${target.handler.toLowerCase()}`;
}

/**
 * Authenticates a signed submission and hands it to its TaskAggregator: the service must be
 * registered here, the signature must recover, and the signer must be a registered signing key
 * whose operator has weight > 0 in the service's manager. Refusals are recorded in the task's
 * timeline (without creating a task) and never counted.
 * @throws SubmissionRefusedError for a submission that will never count; anything else is transient
 */
export async function acceptSubmission(env: Env, submission: ParsedSubmission, via: "local" | "peer"): Promise<AggregationStatus> {
  const db = openDb(env.DB);
  const refuse = async (status: SubmissionRefusedError["status"], code: string, message: string, signer?: Hex): Promise<never> => {
    await db.insert(taskSteps).values({
      eventId: submission.eventId,
      step: "submission_refused",
      at: Date.now(),
      detail: JSON.stringify({ code, reason: message, via, ...(signer ? { signer } : {}) }),
    });
    log("warn", "submission refused", { subsys: "aggregate", service_id: submission.serviceId, event_id: submission.eventId, code, via, ...(signer ? { signer } : {}) });
    throw new SubmissionRefusedError(status, code, message);
  };

  const registered = await findService(db, submission.serviceId);
  if (!registered) throw new SubmissionRefusedError(404, "unknown_service", `service ${submission.serviceId} is not registered on this node`);
  const { service } = registered;
  if (!service.workflows[submission.workflowId]) {
    throw new SubmissionRefusedError(404, "unknown_workflow", `workflow ${submission.workflowId} is not in the service`);
  }
  const target = readSubmitTarget(service, submission.workflowId);

  let signer: Hex;
  try {
    signer = (await recoverEnvelopeSigner(submission.envelope, submission.signature)).toLowerCase() as Hex;
  } catch {
    return refuse(422, "invalid_signature", "the envelope signature does not recover");
  }
  const manager = service.manager.evm;
  const standing = await readSignerStanding(await chainByKey(env, manager.chain), manager.address, signer);
  if (!standing.registered) return refuse(403, "signer_not_registered", standing.reason, signer);

  const aggregator = env.TASK_AGGREGATOR.get(env.TASK_AGGREGATOR.idFromName(taskAggregatorName(submission.eventId, target)));
  const result = await aggregator.addSubmission({
    eventId: submission.eventId,
    serviceId: submission.serviceId,
    workflowId: submission.workflowId,
    chain: target.chain,
    handler: target.handler,
    envelope: submission.envelope,
    signer,
    signature: submission.signature,
    weight: standing.weight.toString(),
    json: submission.json,
  });
  if (!result.accepted) return refuse(result.code === "invalid_signature" ? 422 : 409, result.code, result.message, signer);
  const { accepted: _a, ...status } = result;
  return status;
}
