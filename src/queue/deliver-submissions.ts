import { postSubmission } from "../aggregate/peer-client";
import { peerRequestHeaders } from "../aggregate/peers";
import { eq } from "drizzle-orm";
import { openDb } from "../db/client";
import { tasks } from "../db/schema";
import { log } from "../log";
import { wholeNumberSetting } from "../util/whole-number-setting";
import type { SubmissionMessage } from "./messages";

/**
 * `max_retries` of the wavs-edge-submissions consumer in wrangler.toml: after that many retries a
 * message goes to the dead-letter queue (which only records it), so its parked body is deleted.
 */
export const SUBMISSIONS_MAX_RETRIES = 10;

/** Bodies up to this size ride in the queue message; larger ones are parked in R2 (SubmissionMessage.bodyKey). */
export const INLINE_SUBMISSION_BYTES = 32 * 1024;

/** Where a large body waits for its delivery to one peer: one object per (body, peer), deleted with its message. */
async function parkedBodyKey(body: string, peer: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`${peer}\n${body}`));
  return `pending-submissions/${[...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/**
 * The SUBMISSIONS messages that deliver `s.body` to each of `peers`: inline when small, else by
 * reference to an R2 object per peer (written here).
 */
export async function submissionMessages(
  env: Pick<Env, "COMPONENTS">,
  peers: readonly string[],
  s: Pick<SubmissionMessage, "serviceId" | "workflowId" | "eventId"> & { body: string },
): Promise<SubmissionMessage[]> {
  const { body, ...task } = s;
  const inline = new TextEncoder().encode(body).length <= INLINE_SUBMISSION_BYTES;
  return Promise.all(
    peers.map(async (peer): Promise<SubmissionMessage> => {
      if (inline) return { type: "submission", version: 1, peer, ...task, body };
      const bodyKey = await parkedBodyKey(body, peer);
      await env.COMPONENTS.put(bodyKey, body, { httpMetadata: { contentType: "application/json" } });
      return { type: "submission", version: 1, peer, ...task, bodyKey };
    }),
  );
}

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
  env: Pick<Env, "NODE_URL" | "SUBMISSION_RETRY_MAX_SECONDS" | "SUBMISSION_DELIVERY_TIMEOUT_MS" | "COMPONENTS" | "DB">,
): Promise<void> {
  const maxDelay = retryCeilingSeconds(env.SUBMISSION_RETRY_MAX_SECONDS);
  const timeoutMs = deliveryTimeoutMs(env.SUBMISSION_DELIVERY_TIMEOUT_MS);
  await Promise.all(
    batch.messages.map(async (message) => {
      const { peer, serviceId, workflowId, eventId, bodyKey } = message.body;
      const fields = {
        subsys: "queue" as const,
        service_id: serviceId,
        workflow_id: workflowId,
        event_id: eventId,
        peer,
        attempts: message.attempts,
      };
      // Done with for good (delivered, refused, or off to the dead-letter queue): its parked body goes too.
      const done = async () => {
        if (bodyKey) await env.COMPONENTS.delete(bodyKey);
      };
      // Landed meanwhile (as this node knows it): the peer has nothing left to aggregate, and a node
      // back from a crash would otherwise take every missed event's submissions at once (a 2,000-event
      // burst: its own intake starved under them); a peer short of quorum asks around and adopts it.
      if (await landedHere(env, eventId)) {
        await done();
        log("info", "submission not delivered: the event landed", fields);
        message.ack();
        return;
      }
      const body = message.body.body ?? (bodyKey ? await (await env.COMPONENTS.get(bodyKey))?.text() : undefined);
      if (body === undefined) {
        log("warn", "a queued submission's body is gone; dropped", {
          ...fields,
          ...(bodyKey ? { body_key: bodyKey } : {}),
        });
        message.ack();
        return;
      }
      const { outcome, status } = await handSubmission(peer, body, env, timeoutMs);
      if (outcome === "delivered") {
        await done();
        message.ack();
      } else if (outcome === "refused") {
        log("warn", "peer refused the submission", { ...fields, status });
        await done();
        message.ack();
      } else {
        if (message.attempts > SUBMISSIONS_MAX_RETRIES) await done();
        log("warn", "submission delivery will retry", {
          ...fields,
          ...(status ? { status } : { error: "unreachable" }),
        });
        message.retry({ delaySeconds: Math.min(2 ** message.attempts, maxDelay) });
      }
    }),
  );
}

/** Whether this node's timeline says the event landed. */
async function landedHere(env: Pick<Env, "DB">, eventId: string): Promise<boolean> {
  const row = await openDb(env.DB).query.tasks.findFirst({
    columns: { status: true },
    where: eq(tasks.eventId, eventId),
  });
  return row?.status === "landed";
}
