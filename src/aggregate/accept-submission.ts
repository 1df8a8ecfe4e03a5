import type { Hex } from "viem";
import { chainByKey } from "../config";
import { openDb } from "../db/client";
import { taskSteps } from "../db/schema";
import { recordTaskStep } from "../db/tasks";
import { describeError, log } from "../log";
import { findService } from "../service/service-registry";
import { prefixOrDefault, recoverEnvelopeSigner } from "../sign/envelope";
import { checkSignatureForm } from "./signature-form";
import { countIn } from "../metrics/isolate-counters";
import { readSignerStanding, signerStandingTtlMs } from "./authenticate-signer";
import { runAggregatorStep, type AggregatorStepOutcome } from "./run-aggregator";
import { SubmissionError, type ParsedSubmission } from "./submission";
import type { AggregationStatus } from "./task-aggregator";
import { isRetryable, WavsError } from "../util/errors";

/** What a node answers for an accepted submission: the state of the task it went to, if any. */
export type AcceptedSubmission =
  | AggregationStatus
  /** the aggregator component asked for a timer: the signature is counted when it fires */
  | { status: "timer"; signers: Hex[] }
  /** the aggregator component asked for nothing: the signature is not counted */
  | { status: "no_action"; signers: Hex[] };

/** A submission this node will never count; `status` is the HTTP status it answers with. */
export class SubmissionRefusedError extends WavsError {
  override name = "SubmissionRefusedError";
  declare readonly status: 403 | 404 | 409 | 422;
  constructor(status: 403 | 404 | 409 | 422, code: string, message: string) {
    super(code, message, { status });
  }
}

/**
 * Authenticates a signed submission and runs the workflow's aggregator component on it (see
 * run-aggregator.ts): the service must be registered here, the signature must recover, and the
 * signer must be a registered signing key whose operator has weight > 0 in the service's manager.
 * Refusals are never counted toward a quorum. A peer's refusal is counted in a metric
 * (wavs_submissions_refused_total) and logged, not written to the task's timeline: a stranger
 * must not be able to grow a timeline; this node's own refused submission is recorded there.
 * @throws SubmissionRefusedError for a submission that will never count (the aggregator component
 *   failing included); anything else is transient
 */
export async function acceptSubmission(
  env: Env,
  submission: ParsedSubmission,
  via: "local" | "peer",
): Promise<AcceptedSubmission> {
  const db = openDb(env.DB);
  const refuse = async (
    status: SubmissionRefusedError["status"],
    code: string,
    message: string,
    signer?: Hex,
  ): Promise<never> => {
    countIn(`submissions_refused:${code}`);
    if (via === "local") {
      await db.insert(taskSteps).values({
        eventId: submission.eventId,
        step: "submission_refused",
        at: Date.now(),
        detail: JSON.stringify({ code, reason: message, via, ...(signer ? { signer } : {}) }),
      });
    }
    log("warn", "submission refused", {
      subsys: "aggregate",
      service_id: submission.serviceId,
      event_id: submission.eventId,
      code,
      via,
      ...(signer ? { signer } : {}),
    });
    throw new SubmissionRefusedError(status, code, message);
  };

  const registered = await findService(db, submission.serviceId);
  if (!registered)
    throw new SubmissionRefusedError(
      404,
      "unknown_service",
      `service ${submission.serviceId} is not registered on this node`,
    );
  const { service } = registered;
  if (!service.workflows[submission.workflowId]) {
    throw new SubmissionRefusedError(
      404,
      "unknown_workflow",
      `workflow ${submission.workflowId} is not in the service`,
    );
  }
  const submit = service.workflows[submission.workflowId]!.submit;
  if (submit === "none") {
    throw new SubmissionRefusedError(
      422,
      "workflow_does_not_submit",
      `workflow ${submission.workflowId} has no aggregator`,
    );
  }
  // The manager verifies what the workflow's signature_kind says, whatever the submission claims.
  const prefix = submit.aggregator.signature_kind.prefix;
  if (prefixOrDefault(submission.prefix) !== prefix) {
    return refuse(422, "invalid_signature", `the signature's kind.prefix is not the workflow's (${prefix ?? "null"})`);
  }

  // viem recovers forms the service manager rejects: counting one would fail the quorum later.
  const form = checkSignatureForm(submission.signature);
  if (!form.ok) return refuse(422, "invalid_signature", `signature rule ${form.rule}: ${form.message}`);
  let signer: Hex;
  try {
    signer = (await recoverEnvelopeSigner(submission.envelope, submission.signature, prefix)).toLowerCase() as Hex;
  } catch {
    return refuse(422, "invalid_signature", "the envelope signature does not recover");
  }
  const manager = service.manager.evm;
  const standing = await readSignerStanding(
    await chainByKey(env, manager.chain),
    manager.address,
    signer,
    signerStandingTtlMs(env),
  );
  if (!standing.registered) return refuse(403, "signer_not_registered", standing.reason, signer);

  let outcome: AggregatorStepOutcome;
  try {
    outcome = await runAggregatorStep(env, service, "process-input", {
      submission,
      signer,
      weight: standing.weight.toString(),
    });
  } catch (e) {
    if (e instanceof SubmissionError) return refuse(422, "invalid_body", e.message, signer);
    // a component that fails or asks for the impossible will do so again: refused, not retried
    if (!isRetryable(e)) {
      const task = { eventId: submission.eventId, serviceId: submission.serviceId, workflowId: submission.workflowId };
      await recordTaskStep(db, task, "aggregator_failed", {}, { fn: "process-input", signer, error: describeError(e) });
      return refuse(422, "aggregator_failed", `the aggregator component failed: ${describeError(e)}`, signer);
    }
    throw e;
  }
  const refused = outcome.submitted.find((r) => !r.accepted);
  if (refused && !refused.accepted)
    return refuse(refused.code === "invalid_signature" ? 422 : 409, refused.code, refused.message, signer);
  const last = outcome.submitted.at(-1);
  if (last?.accepted) {
    const { accepted: _a, target: _t, ...status } = last;
    return status;
  }
  return { status: outcome.timers > 0 ? "timer" : "no_action", signers: [] };
}
