import { postSubmission } from "../aggregate/peer-client";
import { peerRequestHeaders } from "../aggregate/peers";
import { log } from "../log";
import { wholeNumberSetting } from "../util/whole-number-setting";
import type { SubmissionMessage } from "./messages";

/**
 * Whether a peer's answer refuses the submission for good: a 4xx but 408 and 429. No answer or a
 * 5xx may pass later.
 */
export function isPeerRefusal(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}

/** SUBMISSION_RETRY_MAX_SECONDS (1-300, default 30): the longest backoff between deliveries to a peer. */
export function retryCeilingSeconds(raw: string | undefined): number {
  return wholeNumberSetting(raw, 1, 300, 30);
}

/**
 * SUBMISSION_DELIVERY_TIMEOUT_MS (1000-60000, default 30000): how long one delivery waits for the
 * peer. Locally the queue hands out one batch at a time, so a frozen peer holds every delivery up
 * this long.
 */
export function deliveryTimeoutMs(raw: string | undefined): number {
  return wholeNumberSetting(raw, 1_000, 60_000, 30_000);
}

/**
 * SUBMISSION_DIRECT_TIMEOUT_MS (200-60000, default 2000): how long the trigger consumer waits for a
 * peer when it hands it a submission directly; a peer slower than that gets it through the queue.
 */
export function directTimeoutMs(raw: string | undefined): number {
  return wholeNumberSetting(raw, 200, 60_000, 2_000);
}

/** What one delivery came to: taken (2xx), refused for good (isPeerRefusal), or to be tried again. */
export type DeliveryOutcome = "delivered" | "refused" | "retry";

/**
 * POSTs one submission to `peer`'s /aggregator/submissions (peer-client.ts) and classifies the
 * answer; never throws. No answer within `timeoutMs` or a network failure is "retry" (the peer may
 * still take it: a redelivery of the same signature is a no-op there).
 */
export async function handSubmission(
  peer: string,
  body: string,
  env: Pick<Env, "NODE_URL">,
  timeoutMs: number,
): Promise<{ outcome: DeliveryOutcome; status?: number }> {
  const status = await postSubmission(peer, body, { headers: peerRequestHeaders(env), timeoutMs });
  if (status === undefined) return { outcome: "retry" };
  if (status >= 200 && status < 300) return { outcome: "delivered", status };
  return { outcome: isPeerRefusal(status) ? "refused" : "retry", status };
}

/**
 * SUBMISSIONS consumer: the submissions a peer did not take when the trigger consumer handed them
 * over directly, POSTed again with backoff (the queue's max_retries, then the dead-letter queue);
 * a 4xx is the peer refusing it for good: acknowledged and logged.
 */
export async function deliverSubmissions(
  batch: MessageBatch<SubmissionMessage>,
  env: Pick<Env, "NODE_URL" | "SUBMISSION_RETRY_MAX_SECONDS" | "SUBMISSION_DELIVERY_TIMEOUT_MS">,
): Promise<void> {
  const maxDelay = retryCeilingSeconds(env.SUBMISSION_RETRY_MAX_SECONDS);
  const timeoutMs = deliveryTimeoutMs(env.SUBMISSION_DELIVERY_TIMEOUT_MS);
  await Promise.all(
    batch.messages.map(async (message) => {
      const { peer, serviceId, workflowId, eventId, body } = message.body;
      const { outcome, status } = await handSubmission(peer, body, env, timeoutMs);
      const fields = {
        subsys: "queue" as const,
        service_id: serviceId,
        workflow_id: workflowId,
        event_id: eventId,
        peer,
        attempts: message.attempts,
      };
      if (outcome === "delivered") {
        message.ack();
      } else if (outcome === "refused") {
        log("warn", "peer refused the submission", { ...fields, status });
        message.ack();
      } else {
        log("warn", "submission delivery will retry", {
          ...fields,
          ...(status ? { status } : { error: "unreachable" }),
        });
        message.retry({ delaySeconds: Math.min(2 ** message.attempts, maxDelay) });
      }
    }),
  );
}
