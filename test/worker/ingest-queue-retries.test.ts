/// <reference types="vite/client" />
import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { bytesToHex } from "viem";
import { beforeAll, describe, expect, it } from "vitest";
import wranglerToml from "../../wrangler.toml?raw";
import { openDb } from "../../src/db/client";
import { getTaskWithSteps } from "../../src/db/tasks";
import { storeComponent } from "../../src/execute/component-store";
import worker from "../../src/index";
import { isFinalAttempt, TRIGGERS_MAX_RETRIES } from "../../src/queue/consume-triggers";
import type { TriggerMessage } from "../../src/ingest/trigger-message";
import { ensureSigningKey, insertService } from "../../src/service/service-registry";
import type { Service, TriggerData } from "../../src/service/types";
import { computeEventId, computeServiceId, encodeTriggerDataSalt } from "../../src/service/event-id";
import { builtComponent, componentFor } from "./component-fixtures";

const manager = { evm: { chain: "evm:31337", address: "0x00000000000000000000000000000000000000a7" as const } };
const serviceId = computeServiceId(manager);
// Its manager's chain is not configured on this node, so its signed results cannot be authenticated.
const unreachableManager = {
  evm: { chain: "evm:4241", address: "0x00000000000000000000000000000000000000a8" as const },
};
const unreachableServiceId = computeServiceId(unreachableManager);

beforeAll(async () => {
  const { digest } = await storeComponent(env, builtComponent("long-loop"));
  const service: Service = {
    name: "times out",
    status: "active",
    manager,
    workflows: {
      slow: { trigger: "manual", component: { ...componentFor(digest), time_limit_seconds: 1n }, submit: "none" },
    },
  };
  const { digest: echo } = await storeComponent(env, builtComponent("trigger-echo"));
  const { digest: aggregator } = await storeComponent(env, builtComponent("simple-aggregator"));
  const unreachable: Service = {
    name: "signs but cannot hand off",
    status: "active",
    manager: unreachableManager,
    workflows: {
      echo: {
        trigger: "manual",
        component: componentFor(echo),
        submit: {
          aggregator: {
            url: "http://127.0.0.1:9",
            component: componentFor(aggregator),
            signature_kind: { algorithm: "secp256k1", prefix: "eip191" },
          },
        },
      },
    },
  };
  const db = openDb(env.DB);
  for (const s of [service, unreachable]) {
    await insertService(db, s);
    await ensureSigningKey(db, env.WAVS_SIGNING_MNEMONIC, s.manager);
  }
});

/** Delivers one message on `attempts` through the Worker's queue handler; returns the task and the queue's verdict. */
async function deliver(label: string, attempts: number, to = { serviceId, workflowId: "slow" }) {
  const data: TriggerData = { Raw: new TextEncoder().encode(`${label}:${crypto.randomUUID()}`) };
  const body: TriggerMessage = {
    type: "trigger",
    version: 1,
    ...to,
    eventKey: `manual:${crypto.randomUUID()}`,
    data,
    source: "manual",
    seenAt: Date.now(),
  };
  const batch = createMessageBatch<TriggerMessage>("wavs-edge-triggers", [
    { id: crypto.randomUUID(), timestamp: new Date(), attempts, body },
  ]);
  const ctx = createExecutionContext();
  await (worker as ExportedHandler<Env, TriggerMessage>).queue!(batch, env, ctx);
  const result = await getQueueResult(batch, ctx);
  const eventId = bytesToHex(computeEventId(to.serviceId, to.workflowId, encodeTriggerDataSalt(data)));
  return { result, task: await getTaskWithSteps(openDb(env.DB), eventId) };
}

describe("a run that only timed out, on the queue's last attempt", () => {
  it("uses max_retries of the triggers consumer in wrangler.toml", () => {
    // Each consumer's table, up to the next table header.
    const consumers = wranglerToml
      .split("[[queues.consumers]]")
      .slice(1)
      .map((block: string) => block.split(/^\[/m)[0]!);
    const consumer = consumers.find((block: string) => /^\s*queue\s*=\s*"wavs-edge-triggers"\s*$/m.test(block));
    expect(Number(/^\s*max_retries\s*=\s*(\d+)/m.exec(consumer ?? "")?.[1])).toBe(TRIGGERS_MAX_RETRIES);
    // Deliveries are 1-based: max_retries retries follow the first.
    expect(isFinalAttempt(TRIGGERS_MAX_RETRIES)).toBe(false);
    expect(isFinalAttempt(TRIGGERS_MAX_RETRIES + 1)).toBe(true);
  });

  it("stays executing while a retry follows, and is failed with the run's error on the last one", async () => {
    const early = await deliver("early", 2);
    expect(early.result.retryMessages).toHaveLength(1);
    expect(early.task).toMatchObject({ status: "executing" });
    expect(early.task!.steps.at(-1)).toMatchObject({
      step: "execution_failed",
      detail: { kind: "out-of-time", retried: true },
    });

    const last = await deliver("last", TRIGGERS_MAX_RETRIES + 1);
    // Still retried, so the queue moves it to the dead-letter queue.
    expect(last.result.retryMessages).toHaveLength(1);
    expect(last.result.explicitAcks).toHaveLength(0);
    expect(last.task).toMatchObject({ status: "failed", error: expect.stringMatching(/longer than 1 s/) });
    expect(last.task!.steps.at(-1)).toMatchObject({ step: "execution_failed", detail: { kind: "out-of-time" } });
  });
});

describe("a signed result that cannot reach its aggregators", () => {
  const to = { serviceId: unreachableServiceId, workflowId: "echo" };

  it("stays signed while a retry follows, and is failed with a handoff_failed step on the last attempt", async () => {
    const early = await deliver("handoff-early", 2, to);
    expect(early.result.retryMessages).toHaveLength(1);
    expect(early.task).toMatchObject({ status: "signed", error: null });
    expect(early.task!.steps.map((s) => s.step)).toEqual(["executed", "handoff_failed"]);
    expect(early.task!.steps.at(-1)!.detail).toMatchObject({
      retried: true,
      error: expect.stringMatching(/evm:4241 is not configured/),
    });

    const last = await deliver("handoff-last", TRIGGERS_MAX_RETRIES + 1, to);
    // Still retried, so the queue moves it to the dead-letter queue.
    expect(last.result.retryMessages).toHaveLength(1);
    expect(last.result.explicitAcks).toHaveLength(0);
    expect(last.task).toMatchObject({
      status: "failed",
      error: expect.stringMatching(/^signed, but not handed to the aggregators: .*evm:4241 is not configured/),
    });
    expect(last.task!.steps.map((s) => s.step)).toEqual(["executed", "handoff_failed"]);
    expect(last.task!.steps.at(-1)!.detail).toMatchObject({ retried: false });
  });
});
