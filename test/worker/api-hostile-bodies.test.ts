/**
 * Hostile bodies get a clear 4xx and leave the node healthy: a body over its limit whatever its
 * content-type (or with no length at all), JSON keys that would reach an object's prototype, and a
 * task timeline too long to answer at once (paged).
 */
import { env, SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { openDb } from "../../src/db/client";
import { recordTaskStep } from "../../src/db/tasks";
import { MAX_SUBMISSION_PAYLOAD } from "../../src/aggregate/submission";
import { MAX_SUBMISSION_BODY } from "../../src/api/body-limits";
import { emptyNodeStorage } from "./empty-node";

// Fixed ids and digests, or counts over the whole node: start from an empty D1 and R2 (empty-node.ts).
beforeAll(emptyNodeStorage);

const auth = { authorization: "Bearer test-token" };
const manager = { evm: { chain: "evm:31337", address: `0x${"ab".repeat(20)}` } };

async function call(path: string, init: RequestInit & { duplex?: "half" } = {}) {
  const res = await SELF.fetch(`http://node${path}`, init);
  const text = await res.text();
  let body: { error?: { code: string; message: string } } | undefined;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: res.status, body, text };
}

const healthy = async () => expect((await call("/health")).status).toBe(200);

describe("body limits on every route, whatever the content-type", () => {
  const big = "x".repeat((1 << 20) + 10);

  it("413s an oversized body sent as text/plain, with no content-type, or streamed without a length", async () => {
    for (const headers of [
      { ...auth, "content-type": "text/plain" },
      auth,
      { ...auth, "content-type": "application/octet-stream" },
    ]) {
      const res = await call("/services/pause", { method: "POST", headers, body: big });
      expect(res.status, JSON.stringify(headers)).toBe(413);
      expect(res.body?.error?.code).toBe("body_too_large");
    }
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        const chunk = new TextEncoder().encode("y".repeat(64 * 1024));
        for (let i = 0; i < 20; i++) controller.enqueue(chunk);
        controller.close();
      },
    });
    const streamed = await call("/dev/triggers", {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: stream,
      duplex: "half",
    });
    expect(streamed.status).toBe(413);
    expect(streamed.body?.error?.code).toBe("body_too_large");
    await healthy();
  });

  it("takes a peer submission big enough for a 512 KiB payload, and 413s one over its own limit", async () => {
    // Over 1 MiB but within MAX_SUBMISSION_BODY: refused for what it is (not a submission), not for its size.
    const within = await call("/aggregator/submissions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ operator_response: { payload: new Array(MAX_SUBMISSION_PAYLOAD).fill(255) } }),
    });
    expect(within.status).toBe(422);
    const over = await call("/aggregator/submissions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "x".repeat(MAX_SUBMISSION_BODY + 1),
    });
    expect(over.status).toBe(413);
    expect(over.body?.error?.code).toBe("body_too_large");
    await healthy();
  });

  it("still takes components up to their own, larger limit", async () => {
    // Not a component, but over 1 MiB: refused for what it is (400), not for its size.
    const res = await call("/dev/components", {
      method: "POST",
      headers: { ...auth, "content-type": "application/wasm" },
      body: new Uint8Array(2 << 20),
    });
    expect(res.status).toBe(400);
    expect(res.body?.error?.code).toBe("invalid_component");
  });
});

describe("JSON keys that reach a prototype", () => {
  it("refuses __proto__, constructor and prototype keys anywhere in a body (400 forbidden_key)", async () => {
    const bodies = [
      `{"__proto__":{"polluted":true},"service_manager":${JSON.stringify(manager)}}`,
      `{"service_manager":{"evm":{"chain":"evm:31337","address":"${manager.evm.address}","constructor":{"prototype":{}}}}}`,
    ];
    for (const body of bodies) {
      const res = await call("/services/pause", {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body,
      });
      expect(res.status, body).toBe(400);
      expect(res.body?.error?.code).toBe("forbidden_key");
    }
    const trigger = await call("/dev/triggers", {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: `{"service_id":"${"a".repeat(64)}","workflow_id":"w","trigger":"manual","data":{"Raw":[]},"__proto__":{}}`,
    });
    expect(trigger.status).toBe(400);
    expect(trigger.body?.error?.code).toBe("forbidden_key");
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    await healthy();
  });
});

describe("GET /tasks/{eventId} pages its timeline", () => {
  it("answers at most `limit` steps and a cursor for the rest", async () => {
    const eventId = `0x${"1f".repeat(20)}`;
    const task = { eventId, serviceId: "a".repeat(64), workflowId: "w" };
    for (let i = 0; i < 5; i++) await recordTaskStep(openDb(env.DB), task, `step_${i}`, {}, undefined, 1_000 + i);
    const first = (await (await SELF.fetch(`http://node/tasks/${eventId}?limit=2`)).json()) as {
      steps: { step: string }[];
      next_steps_after?: number;
    };
    expect(first.steps.map((s) => s.step)).toEqual(["step_0", "step_1"]);
    expect(first.next_steps_after).toBeDefined();
    const second = (await (
      await SELF.fetch(`http://node/tasks/${eventId}?limit=2&steps_after=${first.next_steps_after}`)
    ).json()) as typeof first;
    expect(second.steps.map((s) => s.step)).toEqual(["step_2", "step_3"]);
    const last = (await (
      await SELF.fetch(`http://node/tasks/${eventId}?limit=2&steps_after=${second.next_steps_after}`)
    ).json()) as typeof first;
    expect(last.steps.map((s) => s.step)).toEqual(["step_4"]);
    expect(last.next_steps_after).toBeUndefined();
    expect((await call(`/tasks/${eventId}?limit=0`)).status).toBe(422);
    expect((await call(`/tasks/${eventId}?limit=5000`)).status).toBe(422);
  });
});
