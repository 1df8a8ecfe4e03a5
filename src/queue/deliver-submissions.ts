import { peerRequestHeaders } from "../aggregate/peers";
import { log } from "../log";
import type { SubmissionMessage } from "./messages";

/** A peer's answer that will not change on retry: it refused the submission. */
function isPermanentRefusal(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}

/**
 * SUBMISSIONS consumer: POSTs each submission to its peer's /aggregator/submissions. A network
 * failure or 5xx retries with backoff (the queue's max_retries, then the dead-letter queue); a 4xx
 * is the peer refusing it for good: acknowledged and logged.
 */
export async function deliverSubmissions(batch: MessageBatch<SubmissionMessage>, env: Pick<Env, "NODE_URL">): Promise<void> {
  const headers = { "content-type": "application/json", ...peerRequestHeaders(env) };
  await Promise.all(
    batch.messages.map(async (message) => {
      const { peer, serviceId, workflowId, eventId, body } = message.body;
      const fields = { subsys: "queue" as const, service_id: serviceId, workflow_id: workflowId, event_id: eventId, peer, attempts: message.attempts };
      let status: number | undefined;
      try {
        const res = await fetch(`${peer}/aggregator/submissions`, {
          method: "POST",
          headers,
          body,
          signal: AbortSignal.timeout(30_000),
        });
        status = res.status;
        await res.body?.cancel();
      } catch {
        status = undefined;
      }
      if (status !== undefined && status >= 200 && status < 300) {
        message.ack();
      } else if (status !== undefined && isPermanentRefusal(status)) {
        log("warn", "peer refused the submission", { ...fields, status });
        message.ack();
      } else {
        log("warn", "submission delivery will retry", { ...fields, ...(status ? { status } : { error: "unreachable" }) });
        message.retry({ delaySeconds: Math.min(2 ** message.attempts, 30) });
      }
    }),
  );
}
