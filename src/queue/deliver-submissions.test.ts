import { env as testEnv } from "cloudflare:test";
import { describe, expect, inject, it } from "vitest";
import {
  deliverSubmissions,
  handSubmission,
  INLINE_SUBMISSION_BYTES,
  isPeerRefusal,
  SUBMISSIONS_MAX_RETRIES,
  submissionMessages,
} from "./deliver-submissions";
import type { SubmissionMessage } from "./messages";

describe("isPeerRefusal", () => {
  it("retries a peer that answered 5xx, 408 or 429, and not one that refused", () => {
    for (const status of [500, 502, 503, 408, 429]) expect(isPeerRefusal(status), String(status)).toBe(false);
    for (const status of [400, 403, 404, 409, 422]) expect(isPeerRefusal(status), String(status)).toBe(true);
  });
});

describe("handSubmission", () => {
  // test/worker/http-server.global.ts: /slow… answers after 3 s, /unavailable… 503, /forbidden… 403, else 200
  const server = `http://127.0.0.1:${inject("httpServerPort")}`;
  const env = { NODE_URL: "http://node-a.example" };

  it("is delivered when the peer takes it, refused for good on a 4xx", async () => {
    expect(await handSubmission(`${server}/ok`, "{}", env, 2_000)).toEqual({ outcome: "delivered", status: 200 });
    expect(await handSubmission(`${server}/forbidden`, "{}", env, 2_000)).toEqual({ outcome: "refused", status: 403 });
  });

  it("is to be tried again when the peer fails or does not answer in time", async () => {
    expect(await handSubmission(`${server}/unavailable`, "{}", env, 2_000)).toEqual({ outcome: "retry", status: 503 });
    const started = Date.now();
    expect(await handSubmission(`${server}/slow`, "{}", env, 300)).toEqual({ outcome: "retry" });
    expect(Date.now() - started).toBeLessThan(2_500);
  });
});

describe("queued submissions by reference", () => {
  const server = `http://127.0.0.1:${inject("httpServerPort")}`;
  const task = { serviceId: "ab".repeat(32), workflowId: "default", eventId: `0x${"ee".repeat(20)}` };
  const env = { ...testEnv, NODE_URL: "http://node-a.example", SUBMISSION_DELIVERY_TIMEOUT_MS: "2000" };

  /** A one-message batch that records what the consumer did with it. */
  function batchOf(body: SubmissionMessage, attempts = 1) {
    const did: string[] = [];
    const message = {
      id: "1",
      timestamp: new Date(),
      body,
      attempts,
      ack: () => did.push("ack"),
      retry: () => did.push("retry"),
    } as unknown as Message<SubmissionMessage>;
    const batch = { queue: "wavs-edge-submissions", messages: [message] } as unknown as MessageBatch<SubmissionMessage>;
    return { batch, did };
  }

  it("keeps a small body in the message and parks a large one in R2, one object per peer", async () => {
    const [small] = await submissionMessages(env, [`${server}/ok`], { ...task, body: "{}" });
    expect(small).toMatchObject({ body: "{}" });
    expect(small!.bodyKey).toBeUndefined();
    const big = `{"p":"${"7".repeat(3 << 20)}"}`; // a 512 KiB payload's Submission JSON is about this size
    const messages = await submissionMessages(env, [`${server}/ok`, `${server}/unavailable`], { ...task, body: big });
    for (const m of messages) {
      expect(m.body).toBeUndefined();
      expect(JSON.stringify(m).length).toBeLessThan(INLINE_SUBMISSION_BYTES);
      expect(await (await env.COMPONENTS.get(m.bodyKey!))?.text()).toBe(big);
    }
    expect(new Set(messages.map((m) => m.bodyKey)).size).toBe(2);
  });

  it("does not deliver a submission for an event that landed here meanwhile, and drops its parked body", async () => {
    const landed = { ...task, eventId: `0x${"e1".repeat(20)}` };
    const [toDown] = await submissionMessages(env, [`${server}/unavailable`], { ...landed, body: "{}".padEnd(40_000) });
    await env.DB.prepare(
      "INSERT INTO tasks (event_id, service_id, workflow_id, status, created_at, updated_at) VALUES (?, ?, ?, 'landed', 1, 1)",
    )
      .bind(landed.eventId, landed.serviceId, landed.workflowId)
      .run();
    const delivery = batchOf(toDown!);
    await deliverSubmissions(delivery.batch, env);
    expect(delivery.did).toEqual(["ack"]); // a peer answering 503 would have meant "retry"
    expect(await env.COMPONENTS.head(toDown!.bodyKey!)).toBeNull();
  });

  it("delivers a parked body and deletes it; keeps it while the peer may still take it, and drops it with the last retry", async () => {
    const body = `{"p":"${"8".repeat(INLINE_SUBMISSION_BYTES)}"}`;
    const [toOk] = await submissionMessages(env, [`${server}/ok`], { ...task, body });
    const delivered = batchOf(toOk!);
    await deliverSubmissions(delivered.batch, env);
    expect(delivered.did).toEqual(["ack"]);
    expect(await env.COMPONENTS.head(toOk!.bodyKey!)).toBeNull();

    const [toDown] = await submissionMessages(env, [`${server}/unavailable`], { ...task, body });
    const retried = batchOf(toDown!);
    await deliverSubmissions(retried.batch, env);
    expect(retried.did).toEqual(["retry"]);
    expect(await env.COMPONENTS.head(toDown!.bodyKey!)).not.toBeNull();
    const last = batchOf(toDown!, SUBMISSIONS_MAX_RETRIES + 1);
    await deliverSubmissions(last.batch, env);
    expect(last.did).toEqual(["retry"]);
    expect(await env.COMPONENTS.head(toDown!.bodyKey!)).toBeNull();
  });

  it("acknowledges a message whose parked body is gone (nothing to deliver)", async () => {
    const gone = batchOf({
      type: "submission",
      version: 1,
      peer: `${server}/ok`,
      ...task,
      bodyKey: "pending-submissions/none",
    });
    await deliverSubmissions(gone.batch, env);
    expect(gone.did).toEqual(["ack"]);
  });
});
