import { bytesToHex, type Hex } from "viem";
import { acceptSubmission, SubmissionRefusedError } from "../aggregate/accept-submission";
import { encodeSubmission, readSubmission, submissionSchema } from "../aggregate/submission";
import { nodeChains } from "../config";
import { openDb, type Db } from "../db/client";
import { claimEvent, markEventDone, recordTaskStep } from "../db/tasks";
import { ExecutionError, runOperatorComponent } from "../execute/run-component";
import { describeError, log } from "../log";
import { parseLosslessJson } from "../service/lossless-json";
import { findService, isServiceActive, signingKeyIndex } from "../service/service-registry";
import { sourceDigest } from "../service/service-json";
import type { Service, TriggerAction, WasmResponse } from "../service/types";
import { buildEnvelope, signEnvelope, type Envelope, type SignaturePrefix } from "../sign/envelope";
import { computeEventId, encodeTriggerDataSalt } from "../service/event-id";
import { deriveServiceSigner } from "../sign/signing-keys";
import { logComponentOutput, type ComponentOutputTags } from "./component-output";
import type { TriggerMessage } from "../ingest/trigger-message";
import type { SubmissionMessage } from "./messages";
import { directTimeoutMs, handSubmission, submissionMessages } from "./deliver-submissions";
import { PeerHandOff } from "./peer-hand-off";
import { aggregatorSettings, peerRequestHeaders } from "../aggregate/peers";
import { withDeadline } from "../util/await-shared";
import { isRetryable, WavsError } from "../util/errors";

/** A failure that will fail again however often it is retried: acknowledge and record it. */
export class PermanentTaskError extends WavsError {
  override name = "PermanentTaskError";
  constructor(message: string) {
    super("task_refused", message);
  }
}

/**
 * `max_retries` of the wavs-edge-triggers consumer in wrangler.toml, which the Worker cannot read at
 * run time; test/node/ingest-queue-settings.test.ts fails when the two differ.
 */
export const TRIGGERS_MAX_RETRIES = 5;

/**
 * How long one message may take before it is retried. Locally the queue hands out the next full
 * batch only once this one returns, so one message awaiting something that never settles would
 * stop the node's intake (a 2,000-event burst: one node took no event for minutes while its webhook
 * kept accepting them); its redelivery takes the event's claim over (claimEvent).
 */
export const TRIGGER_DEADLINE_MS = 120_000;

/** The delay before a retry: doubling with each attempt, at most a minute. */
const backoffSeconds = (attempts: number) => Math.min(2 ** attempts, 60);

/** Whether this delivery is the queue's last: after it fails, the message goes to the dead-letter queue. */
export function isFinalAttempt(attempts: number, maxRetries = TRIGGERS_MAX_RETRIES): boolean {
  return attempts > maxRetries;
}

/**
 * Queue consumer: each message runs its workflow's component, signs every response and hands the
 * signatures to the TaskAggregator of (event id, submit target). The batch's messages run side by
 * side: one after another, a batch took as long as all its events together, and the queue hands a
 * consumer its next batch only when this one returns. Transient failures retry with backoff (then
 * go to the dead-letter queue, the task marked failed on that last attempt); permanent ones are
 * acknowledged and recorded.
 */
export async function consumeTriggers(batch: MessageBatch<TriggerMessage>, env: Env): Promise<void> {
  const db = openDb(env.DB);
  // The batch's signed submissions to a peer share requests (peer-hand-off.ts); for this invocation only.
  const handOff = new PeerHandOff({
    headers: peerRequestHeaders(env),
    timeoutMs: directTimeoutMs(env.SUBMISSION_DIRECT_TIMEOUT_MS),
  });
  await Promise.all(batch.messages.map((message) => consumeTrigger(env, db, message, handOff)));
}

/** One message of a batch: processed, then acknowledged or retried; never throws. */
async function consumeTrigger(env: Env, db: Db, message: Message<TriggerMessage>, handOff: PeerHandOff): Promise<void> {
  const final = isFinalAttempt(message.attempts);
  try {
    await withDeadline(
      processTrigger(env, db, message.body, message.attempts > 1, final, handOff),
      TRIGGER_DEADLINE_MS,
      () =>
        new WavsError("task_overdue", `the task ran past ${TRIGGER_DEADLINE_MS / 1000} s; a redelivery takes it over`, {
          retryable: true,
        }),
    );
    message.ack();
  } catch (e) {
    const permanent = !isRetryable(e);
    log(
      permanent || final ? "error" : "warn",
      permanent ? "task failed" : final ? "task failed: retries used up, to the dead-letter queue" : "task will retry",
      {
        subsys: "queue",
        service_id: message.body.serviceId,
        workflow_id: message.body.workflowId,
        event_key: message.body.eventKey,
        attempts: message.attempts,
        error: describeError(e),
      },
    );
    try {
      if (permanent) {
        await markEventDone(db, message.body.eventKey);
        message.ack();
      } else {
        message.retry({ delaySeconds: backoffSeconds(message.attempts) });
      }
    } catch (recordError) {
      // D1 failed marking it done: leave it to a redelivery, which finds the event's claim
      log("warn", "task outcome not recorded; will retry", {
        subsys: "queue",
        event_key: message.body.eventKey,
        error: describeError(recordError),
      });
      message.retry({ delaySeconds: backoffSeconds(message.attempts) });
    }
  }
}

/**
 * Runs one trigger message end to end (claim, run, sign, hand to the aggregators, mark done).
 * `finalAttempt`: no retry follows, so a failed run or hand-off fails its task rather than leaving it
 * `executing` or `signed`.
 * @throws what the run or the aggregators throw (the caller retries or acknowledges)
 */
export async function processTrigger(
  env: Env,
  db: Db,
  msg: TriggerMessage,
  isRedelivery: boolean,
  finalAttempt = false,
  handOff?: PeerHandOff,
): Promise<void> {
  const claim = await claimEvent(db, msg.eventKey, isRedelivery);
  if (claim !== "claimed") return;

  const registered = await findService(db, msg.serviceId);
  const workflow = registered?.service.workflows[msg.workflowId];
  if (!registered || !workflow || !isServiceActive(registered)) {
    await markEventDone(db, msg.eventKey);
    return;
  }
  const { service } = registered;

  const action: TriggerAction = {
    config: { service_id: msg.serviceId, workflow_id: msg.workflowId, trigger: workflow.trigger },
    data: msg.data,
  };
  const started = Date.now();
  let run: Awaited<ReturnType<typeof runOperatorComponent>>;
  try {
    run = await runOperatorComponent(env, {
      service,
      serviceId: msg.serviceId,
      workflowId: msg.workflowId,
      action,
      chains: await nodeChains(env),
    });
    if (run.responses.length > 1 && run.responses.some((r) => r.event_id_salt === null)) {
      throw new PermanentTaskError("a component returning several responses must give each an event_id_salt");
    }
  } catch (e) {
    await recordExecutionFailure(db, msg, e, Date.now() - started, finalAttempt);
    throw e;
  }
  const { responses, durationMs } = run;
  const output = logComponentOutput(run.logs, outputTags(msg, sourceDigest(workflow.component.source)));

  const signer = deriveServiceSigner(env.WAVS_SIGNING_MNEMONIC, await signingKeyIndex(db, msg.serviceId));
  // As WAVS: the workflow's signature_kind decides what is signed (prefix null: the bare envelope hash).
  const prefix = workflow.submit === "none" ? "eip191" : workflow.submit.aggregator.signature_kind.prefix;
  for (const response of responses) {
    const eventIdBytes = computeEventId(
      msg.serviceId,
      msg.workflowId,
      response.event_id_salt ?? encodeTriggerDataSalt(msg.data),
    );
    const eventId = bytesToHex(eventIdBytes);
    const task = { eventId, serviceId: msg.serviceId, workflowId: msg.workflowId };
    const envelope = buildEnvelope(eventIdBytes, response.payload, response.ordering);
    const signature = await signEnvelope(signer, envelope, prefix);
    // A limit above the operator's ceiling was capped, not refused: say so where the task is read.
    if (run.capped.length > 0) await recordTaskStep(db, task, "limits_capped", {}, { capped: run.capped });
    await recordTaskStep(
      db,
      task,
      "executed",
      { status: "signed" },
      {
        source: msg.source,
        seen_at: msg.seenAt,
        duration_ms: durationMs,
        signer: signer.address,
        ...(output.length > 0 ? { output } : {}),
      },
    );
    try {
      await submitToAggregators(env, service, handOff, {
        action,
        response,
        envelope,
        signature,
        prefix,
        serviceId: msg.serviceId,
        workflowId: msg.workflowId,
      });
    } catch (e) {
      await recordHandoffFailure(db, task, e, finalAttempt);
      throw e;
    }
  }
  await markEventDone(db, msg.eventKey);
}

/**
 * Records a failed run in the task timeline (step `execution_failed`), under the event id a
 * response without a salt would have had, so /tasks, /metrics and the dashboard show it. Only a
 * failure that will not be retried (a permanent one, or any on the queue's last attempt) fails the task.
 */
async function recordExecutionFailure(
  db: Db,
  msg: TriggerMessage,
  e: unknown,
  durationMs: number,
  finalAttempt: boolean,
): Promise<void> {
  const failsTask = !isRetryable(e) || finalAttempt;
  const eventId = bytesToHex(computeEventId(msg.serviceId, msg.workflowId, encodeTriggerDataSalt(msg.data)));
  const error = describeError(e);
  const output = e instanceof ExecutionError ? logComponentOutput(e.logs, outputTags(msg, e.digest)) : [];
  try {
    await recordTaskStep(
      db,
      { eventId, serviceId: msg.serviceId, workflowId: msg.workflowId },
      "execution_failed",
      failsTask ? { status: "failed", error } : { error },
      {
        source: msg.source,
        seen_at: msg.seenAt,
        duration_ms: durationMs,
        kind: e instanceof ExecutionError ? e.kind : "task",
        retried: isRetryable(e),
        ...(output.length > 0 ? { output } : {}),
      },
    );
  } catch (recordError) {
    // The run's own error matters more: log this one and let the caller handle that.
    log("warn", "could not record the failed execution", {
      subsys: "queue",
      event_id: eventId,
      error: describeError(recordError),
    });
  }
}

/**
 * Records a signed result that did not reach the aggregators (step `handoff_failed`). Only a failure
 * that will not be retried (a permanent one, or any on the queue's last attempt) fails the task:
 * otherwise it would stay `signed` for good while its message sits in the dead-letter queue.
 */
async function recordHandoffFailure(
  db: Db,
  task: { eventId: string; serviceId: string; workflowId: string },
  e: unknown,
  finalAttempt: boolean,
): Promise<void> {
  const failsTask = !isRetryable(e) || finalAttempt;
  const error = `signed, but not handed to the aggregators: ${describeError(e)}`;
  try {
    await recordTaskStep(db, task, "handoff_failed", failsTask ? { status: "failed", error } : {}, {
      error,
      retried: !failsTask,
    });
  } catch (recordError) {
    // The hand-off's own error matters more: log this one and let the caller handle that.
    log("warn", "could not record the failed hand-off", {
      subsys: "queue",
      event_id: task.eventId,
      error: describeError(recordError),
    });
  }
}

function outputTags(msg: TriggerMessage, digest: string | undefined): ComponentOutputTags {
  return { service_id: msg.serviceId, workflow_id: msg.workflowId, digest, event_key: msg.eventKey };
}

/**
 * Sends the signed response, as WAVS's Submission JSON, to every aggregating node: straight to this
 * node's own TaskAggregator and to each peer in PEERS, side by side. A peer that does not take it
 * within SUBMISSION_DIRECT_TIMEOUT_MS gets it through the SUBMISSIONS queue (with retries): the
 * queue's batch window is thus off the path of an event whose peers are up. A lone node (no PEERS)
 * aggregates for itself.
 */
async function submitToAggregators(
  env: Env,
  service: Service,
  handOff: PeerHandOff | undefined,
  p: {
    action: TriggerAction;
    response: WasmResponse;
    envelope: Envelope;
    signature: Hex;
    prefix: SignaturePrefix;
    serviceId: string;
    workflowId: string;
  },
): Promise<void> {
  if (service.workflows[p.workflowId]!.submit === "none") return;
  const settings = aggregatorSettings(env);
  const body = encodeSubmission(p);
  const peers = settings.peers.filter((url) => url !== settings.selfUrl);
  const aggregatesHere = settings.peers.length === 0 || settings.peers.includes(settings.selfUrl);
  await Promise.all([
    handToPeers(env, peers, handOff, {
      serviceId: p.serviceId,
      workflowId: p.workflowId,
      eventId: p.envelope.eventId,
      body,
    }),
    aggregatesHere ? aggregateOwn(env, body, p) : undefined,
  ]);
}

/**
 * Each peer's delivery tried once directly (with the other submissions of the queue batch bound
 * there at the same time: `handOff`); the ones to try again go onto the SUBMISSIONS queue.
 */
async function handToPeers(
  env: Env,
  peers: string[],
  handOff: PeerHandOff | undefined,
  s: Pick<SubmissionMessage, "serviceId" | "workflowId" | "eventId"> & { body: string },
): Promise<void> {
  if (peers.length === 0) return;
  const timeoutMs = directTimeoutMs(env.SUBMISSION_DIRECT_TIMEOUT_MS);
  const outcomes = await Promise.all(
    peers.map((peer) => (handOff ? handOff.hand(peer, s.body) : handSubmission(peer, s.body, env, timeoutMs))),
  );
  const fields = { subsys: "queue" as const, service_id: s.serviceId, workflow_id: s.workflowId, event_id: s.eventId };
  outcomes.forEach(({ outcome, status }, i) => {
    if (outcome === "refused") log("warn", "peer refused the submission", { ...fields, peer: peers[i], status });
  });
  const again = peers.filter((_, i) => outcomes[i]!.outcome === "retry");
  if (again.length === 0) return;
  // A large body waits in R2, the message holding its key.
  const messages = await submissionMessages(env, again, s);
  await env.SUBMISSIONS.sendBatch(messages.map((body) => ({ body })));
}

/** This node's own signature, straight to its TaskAggregator. */
async function aggregateOwn(
  env: Env,
  body: string,
  p: { serviceId: string; workflowId: string; envelope: Envelope },
): Promise<void> {
  const parsed = readSubmission(submissionSchema.parse(parseLosslessJson(body)));
  try {
    const status = await acceptSubmission(env, parsed, "local");
    log("info", "signature aggregated", {
      subsys: "aggregate",
      service_id: p.serviceId,
      workflow_id: p.workflowId,
      event_id: p.envelope.eventId,
      status: status.status,
    });
  } catch (e) {
    if (e instanceof SubmissionRefusedError) throw new PermanentTaskError(`own submission refused: ${e.message}`);
    throw e;
  }
}
