import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { bytesToHex } from "viem";
import { beforeAll, describe, expect, it } from "vitest";
import { openDb } from "../../src/db/client";
import { getTaskWithSteps } from "../../src/db/tasks";
import { storeComponent } from "../../src/execute/component-store";
import worker from "../../src/index";
import type { TriggerMessage } from "../../src/ingest/trigger-message";
import { ensureSigningKey, insertService } from "../../src/service/service-registry";
import type { Service, TriggerData } from "../../src/service/types";
import { computeEventId, computeServiceId, encodeTriggerDataSalt } from "../../src/service/event-id";
import { builtComponent, componentFor } from "./component-fixtures";

// a manager of this run only: other files share the runtime and its D1
const manager = {
  evm: { chain: "evm:31337", address: `0x${crypto.randomUUID().replaceAll("-", "").padEnd(40, "c")}` as `0x${string}` },
};
const serviceId = computeServiceId(manager);

beforeAll(async () => {
  const { digest } = await storeComponent(env, builtComponent("wasi-probe"));
  const service: Service = {
    name: "responses",
    status: "active",
    manager,
    workflows: { probe: { trigger: "manual", component: componentFor(digest), submit: "none" } },
  };
  const db = openDb(env.DB);
  await insertService(db, service);
  await ensureSigningKey(db, env.WAVS_SIGNING_MNEMONIC, manager);
});

describe("responses of a run", () => {
  it("several responses without event-id salts fail only that task, permanently, with a clear error (as WAVS)", async () => {
    const data: TriggerData = { Raw: new TextEncoder().encode("two-responses") };
    const body: TriggerMessage = {
      type: "trigger",
      version: 1,
      serviceId,
      workflowId: "probe",
      eventKey: `manual:${crypto.randomUUID()}`,
      data,
      source: "manual",
      seenAt: Date.now(),
    };
    const batch = createMessageBatch<TriggerMessage>("wavs-edge-triggers", [
      { id: crypto.randomUUID(), timestamp: new Date(), attempts: 1, body },
    ]);
    const ctx = createExecutionContext();
    await (worker as ExportedHandler<Env, TriggerMessage>).queue!(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    // not retried: a component that answers this way will answer it again
    expect(result.retryMessages).toEqual([]);
    const eventId = bytesToHex(computeEventId(serviceId, "probe", encodeTriggerDataSalt(data)));
    const task = await getTaskWithSteps(openDb(env.DB), eventId);
    expect(task).toMatchObject({
      status: "failed",
      error: expect.stringContaining("several responses must give each an event_id_salt"),
    });
    expect(task!.steps.map((s) => s.step)).toContain("execution_failed");
    expect(task!.steps.find((s) => s.step === "execution_failed")?.detail).toMatchObject({ retried: false });
    expect(task!.steps.map((s) => s.step)).not.toContain("executed");
  });
});
