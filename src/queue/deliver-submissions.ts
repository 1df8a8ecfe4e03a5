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
 * SUBMISSIONS consumer: POSTs each submission to its peer's /aggregator/submissions. A network
 * failure or 5xx retries with backoff (the queue's max_retries, then the dead-letter queue); a 4xx
 * is the peer refusing it for good: acknowledged and logged.
 */
export async function deliverSubmissions(
  batch: MessageBatch<SubmissionMessage>,
  env: Pick<Env, "NODE_URL" | "SUBMISSION_RETRY_MAX_SECONDS" | "SUBMISSION_DELIVERY_TIMEOUT_MS">,
): Promise<void> {
  const maxDelay = retryCeilingSeconds(env.SUBMISSION_RETRY_MAX_SECONDS);
  const timeoutMs = deliveryTimeoutMs(env.SUBMISSION_DELIVERY_TIMEOUT_MS);
  const headers = { "content-type": "application/json", ...peerRequestHeaders(env) };
  await Promise.all(
    batch.messages.map(async (message) => {
      const { peer, serviceId, workflowId, eventId, body } = message.body;
      const fields = {
        subsys: "queue" as const,
        service_id: serviceId,
        workflow_id: workflowId,
        event_id: eventId,
        peer,
        attempts: message.attempts,
      };
      let status: number | undefined;
      try {
        const res = await fetch(`${peer}/aggregator/submissions`, {
          method: "POST",
          headers,
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
        status = res.status;
        await res.body?.cancel();
      } catch {
        status = undefined;
      }
      if (status !== undefined && status >= 200 && status < 300) {
        message.ack();
      } else if (status !== undefined && isPeerRefusal(status)) {
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
