import { bytesToHex, isAddress, type Hex } from "viem";
import type { SignedSubmission } from "../aggregate/task-aggregator";
import { nodeChains } from "../config";
import { openDb, type Db } from "../db/client";
import { claimEvent, markEventDone, recordTaskStep } from "../db/tasks";
import { ExecutionError, runOperatorComponent } from "../execute/run-component";
import { describeError, log } from "../log";
import { findService, signingKeyIndex } from "../service/service-registry";
import type { Service } from "../service/types";
import { buildEnvelope, signEnvelope } from "../sign/envelope";
import { computeEventId, encodeTriggerDataSalt } from "../sign/event-id";
import { deriveServiceSigner } from "../sign/signing-keys";
import type { TriggerMessage } from "./messages";

/** A failure that will fail again however often it is retried: acknowledge and record it. */
export class PermanentTaskError extends Error {
  override name = "PermanentTaskError";
}

/**
 * Queue consumer: each message runs its workflow's component, signs every response and hands the
 * signatures to the TaskAggregator of (event id, submit target). Transient failures retry with
 * backoff (then go to the dead-letter queue); permanent ones are acknowledged and recorded.
 */
export async function consumeTriggers(batch: MessageBatch<TriggerMessage>, env: Env): Promise<void> {
  const db = openDb(env.DB);
  for (const message of batch.messages) {
    try {
      await processTrigger(env, db, message.body, message.attempts > 1);
      message.ack();
    } catch (e) {
      const permanent = e instanceof PermanentTaskError || (e instanceof ExecutionError && e.kind !== "out-of-time");
      log(permanent ? "error" : "warn", permanent ? "task failed" : "task will retry", {
        subsys: "queue",
        service_id: message.body.serviceId,
        workflow_id: message.body.workflowId,
        event_key: message.body.eventKey,
        attempts: message.attempts,
        error: describeError(e),
      });
      if (permanent) {
        await markEventDone(db, message.body.eventKey);
        message.ack();
      } else {
        message.retry({ delaySeconds: Math.min(2 ** message.attempts, 60) });
      }
    }
  }
}

export async function processTrigger(env: Env, db: Db, msg: TriggerMessage, isRedelivery: boolean): Promise<void> {
  const claim = await claimEvent(db, msg.eventKey, isRedelivery);
  if (claim !== "claimed") return;

  const registered = await findService(db, msg.serviceId);
  const workflow = registered?.service.workflows[msg.workflowId];
  if (!registered || !workflow || registered.service.status !== "active") {
    await markEventDone(db, msg.eventKey);
    return;
  }
  const { service } = registered;

  const { responses, durationMs } = await runOperatorComponent(env, {
    service,
    serviceId: msg.serviceId,
    workflowId: msg.workflowId,
    action: { config: { service_id: msg.serviceId, workflow_id: msg.workflowId, trigger: workflow.trigger }, data: msg.data },
    chains: await nodeChains(env),
  });
  if (responses.length > 1 && responses.some((r) => r.event_id_salt === null)) {
    throw new PermanentTaskError("a component returning several responses must give each an event_id_salt");
  }

  const signer = deriveServiceSigner(env.WAVS_SIGNING_MNEMONIC, await signingKeyIndex(db, msg.serviceId));
  for (const response of responses) {
    const eventIdBytes = computeEventId(
      msg.serviceId,
      msg.workflowId,
      response.event_id_salt ?? encodeTriggerDataSalt(msg.data),
    );
    const eventId = bytesToHex(eventIdBytes);
    const task = { eventId, serviceId: msg.serviceId, workflowId: msg.workflowId };
    const envelope = buildEnvelope(eventIdBytes, response.payload, response.ordering);
    const signature = await signEnvelope(signer, envelope);
    await recordTaskStep(db, task, "executed", { status: "signed" }, {
      source: msg.source,
      seen_at: msg.seenAt,
      duration_ms: durationMs,
      signer: signer.address,
    });
    await submitToAggregator(env, service, msg.workflowId, { ...task, envelope, signer: signer.address, signature });
  }
  await markEventDone(db, msg.eventKey);
}

/**
 * Hands the signature to the TaskAggregator for the workflow's submit target. Until aggregator
 * components run (they come with the aggregation work), the target is read from the aggregator
 * component's `chain` and `service_handler` config, as WAVS's simple aggregator does.
 */
async function submitToAggregator(
  env: Env,
  service: Service,
  workflowId: string,
  signed: Omit<SignedSubmission, "chain" | "handler">,
): Promise<void> {
  const submit = service.workflows[workflowId]!.submit;
  if (submit === "none") return;
  const { chain, service_handler: handler } = submit.aggregator.component.config;
  if (!chain || !handler || !isAddress(handler)) {
    throw new PermanentTaskError(
      "the aggregator component config needs `chain` and `service_handler` (a 0x address)",
    );
  }
  const id = env.TASK_AGGREGATOR.idFromName(`${signed.eventId}:${chain}:${handler.toLowerCase()}`);
  const status = await env.TASK_AGGREGATOR.get(id).addSubmission({ ...signed, chain, handler: handler as Hex });
  log("info", "signature aggregated", { subsys: "aggregate", service_id: signed.serviceId, workflow_id: workflowId, event_id: signed.eventId, status: status.status });
}
