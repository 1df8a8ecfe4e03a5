import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { bytesToHex } from "viem";
import { describe, expect, it } from "vitest";
import { openDb } from "../../src/db/client";
import { getTaskWithSteps } from "../../src/db/tasks";
import { storeComponent } from "../../src/execute/component-store";
import { runOperatorComponent } from "../../src/execute/run-component";
import worker from "../../src/index";
import type { TriggerMessage } from "../../src/ingest/trigger-message";
import { ensureSigningKey, insertService } from "../../src/service/service-registry";
import type { Service, TriggerData } from "../../src/service/types";
import { computeEventId, computeServiceId, encodeTriggerDataSalt } from "../../src/service/event-id";
import { SERVICE_ID, actionFor, builtComponent, componentFor, raw, serviceFor, utf8 } from "./component-fixtures";

async function run(
  name: string,
  input: string,
  timeLimitSeconds: bigint | null = null,
  vars: Record<string, string> = {},
) {
  const { digest } = await storeComponent(env, builtComponent(name));
  const service = serviceFor(digest);
  service.workflows.default!.component.time_limit_seconds = timeLimitSeconds;
  return runOperatorComponent(
    { ...env, ...vars },
    {
      service,
      serviceId: SERVICE_ID,
      workflowId: "default",
      action: actionFor(service, raw(input)),
      chains: [],
    },
  );
}

/** square still answers: the node keeps serving other components. */
async function expectSquareStillRuns(): Promise<void> {
  const result = await run("square", '{"x":7}');
  expect(utf8(result.responses[0]!.payload)).toBe('{"y":49}');
}

describe("a failing component fails only its own run", () => {
  it("trap: a typed trap error", async () => {
    await expect(run("trap", "x")).rejects.toMatchObject({
      name: "ExecutionError",
      kind: "trap",
      message: expect.stringMatching(/unreachable/),
    });
    await expectSquareStillRuns();
  });

  it("unbounded memory growth: a trap once the engine refuses to grow it", async () => {
    await expect(run("memory-hog", "x")).rejects.toMatchObject({ kind: "trap" });
    await expectSquareStillRuns();
  });

  it("a loop that outlasts time_limit_seconds: out-of-time", async () => {
    const started = Date.now();
    await expect(run("long-loop", "x", 1n)).rejects.toMatchObject({
      kind: "out-of-time",
      message: "component ran longer than 1 s",
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    await expectSquareStillRuns();
  });
});

// long-loop spins 2^32 times, about 1.5-2 s on a quiet machine: a 1 s ceiling cuts it, a 2 s one may not.
describe("time limits as WAVS means them, under MAX_TIME_LIMIT_SECONDS", () => {
  it("a component without time_limit_seconds runs until the operator's ceiling", async () => {
    const started = Date.now();
    await expect(run("long-loop", "x", null, { MAX_TIME_LIMIT_SECONDS: "1" })).rejects.toMatchObject({
      kind: "out-of-time",
      message: "component ran longer than 1 s",
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });

  it("a u64 of 2^64-1 is capped to the ceiling (no timer overflow), and the error says so", async () => {
    const started = Date.now();
    await expect(run("long-loop", "x", (1n << 64n) - 1n, { MAX_TIME_LIMIT_SECONDS: "1" })).rejects.toMatchObject({
      kind: "out-of-time",
      message: "component ran longer than 1 s (it asked for 18446744073709551615 s; MAX_TIME_LIMIT_SECONDS caps it)",
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });

  it("a run asking for more than the ceiling still runs, and reports the cap", async () => {
    const result = await run("square", '{"x":3}', (1n << 64n) - 1n);
    expect(utf8(result.responses[0]!.payload)).toBe('{"y":9}');
    expect(result.capped).toEqual([
      { field: "time_limit_seconds", asked: "18446744073709551615", applied: "300", ceiling: "MAX_TIME_LIMIT_SECONDS" },
    ]);
  });
});

describe("a capped limit in the task's timeline", () => {
  it("notes limits_capped before executed, and the task goes on", async () => {
    const manager = { evm: { chain: "evm:31337", address: "0x00000000000000000000000000000000000000d7" as const } };
    const serviceId = computeServiceId(manager);
    const { digest } = await storeComponent(env, builtComponent("square"));
    const service: Service = {
      name: "greedy",
      status: "active",
      manager,
      workflows: {
        default: {
          trigger: "manual",
          component: { ...componentFor(digest), time_limit_seconds: 100_000n },
          submit: "none",
        },
      },
    };
    const db = openDb(env.DB);
    await insertService(db, service);
    await ensureSigningKey(db, env.WAVS_SIGNING_MNEMONIC, manager);

    const data: TriggerData = { Raw: new TextEncoder().encode('{"x":5}') };
    const body: TriggerMessage = {
      type: "trigger",
      version: 1,
      serviceId,
      workflowId: "default",
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
    await getQueueResult(batch, ctx);

    const task = await getTaskWithSteps(
      db,
      bytesToHex(computeEventId(serviceId, "default", encodeTriggerDataSalt(data))),
    );
    expect(task!.steps.map((s) => s.step)).toEqual(["limits_capped", "executed"]);
    expect(task!.steps[0]!.detail).toEqual({
      capped: [{ field: "time_limit_seconds", asked: "100000", applied: "300", ceiling: "MAX_TIME_LIMIT_SECONDS" }],
    });
  });
});
