import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { bytesToHex } from "viem";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { openDb } from "../../src/db/client";
import { getTaskWithSteps } from "../../src/db/tasks";
import { storeComponent } from "../../src/execute/component-store";
import { createSecretMasker } from "../../src/execute/mask-secrets";
import worker from "../../src/index";
import type { TriggerMessage } from "../../src/ingest/trigger-message";
import { ensureSigningKey, insertService } from "../../src/service/service-registry";
import type { Service, TriggerData } from "../../src/service/types";
import { computeEventId, computeServiceId, encodeTriggerDataSalt } from "../../src/service/event-id";
import { builtComponent, componentFor } from "./component-fixtures";

const manager = { evm: { chain: "evm:31337", address: "0x00000000000000000000000000000000000000b8" as const } };
const serviceId = computeServiceId(manager);
const SECRET = "component-secret"; // WAVS_ENV_TEST_API_KEY in vitest.config.ts
const digests: Record<string, string> = {};

beforeAll(async () => {
  for (const name of ["host-probe", "wasi-probe"])
    digests[name] = (await storeComponent(env, builtComponent(name))).digest;
  const service: Service = {
    name: "output",
    status: "active",
    manager,
    workflows: {
      logs: { trigger: "manual", component: componentFor(digests["host-probe"]!), submit: "none" },
      leaks: {
        trigger: "manual",
        component: { ...componentFor(digests["wasi-probe"]!), env_keys: ["WAVS_ENV_TEST_API_KEY"] },
        submit: "none",
      },
    },
  };
  const db = openDb(env.DB);
  await insertService(db, service);
  await ensureSigningKey(db, env.WAVS_SIGNING_MNEMONIC, manager);
});

afterEach(() => vi.restoreAllMocks());

/** Runs `workflowId` on raw `input` through the Worker's queue handler; answers its task (under the
 * event id of `salt`, else of the trigger data) and the node's log lines. */
async function runThroughQueue(workflowId: string, input: string, salt?: Uint8Array) {
  const lines: Record<string, unknown>[] = [];
  for (const method of ["log", "warn", "error"] as const) {
    vi.spyOn(console, method).mockImplementation((line: unknown) => {
      if (typeof line === "string" && line.startsWith("{")) lines.push(JSON.parse(line));
    });
  }
  const data: TriggerData = { Raw: new TextEncoder().encode(input) };
  const body: TriggerMessage = {
    type: "trigger",
    version: 1,
    serviceId,
    workflowId,
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
  vi.restoreAllMocks();
  const eventId = bytesToHex(computeEventId(serviceId, workflowId, salt ?? encodeTriggerDataSalt(data)));
  return { task: await getTaskWithSteps(openDb(env.DB), eventId), lines, eventKey: body.eventKey };
}

describe("a component's output (host log, stdout, stderr)", () => {
  it("goes to the node's log line by line, tagged, at its level, and into the executed step", async () => {
    // host-probe salts its response with [1, 2, 3]
    const { task, lines, eventKey } = await runThroughQueue("logs", "hello", new Uint8Array([1, 2, 3]));
    const output = lines.filter((l) => l.output !== undefined);
    expect(output.map((l) => [l.level, l.msg])).toEqual([
      ["error", "error: probe error"],
      ["warn", "warn: probe warn"],
      ["info", "info: probe info"],
      ["debug", "debug: probe debug"],
      ["debug", "trace: probe trace"],
    ]);
    expect(output[0]).toMatchObject({
      subsys: "execute",
      service_id: serviceId,
      workflow_id: "logs",
      digest: digests["host-probe"],
      event_key: eventKey,
    });
    const executed = task!.steps.find((s) => s.step === "executed");
    expect(executed?.detail).toMatchObject({
      output: [
        "error: probe error",
        "warn: probe warn",
        "info: probe info",
        "debug: probe debug",
        "trace: probe trace",
      ],
    });
  });

  it("never carries a WAVS_ENV_ secret: printed or thrown, it is masked in the log, the timeline and the error", async () => {
    const { task, lines } = await runThroughQueue("leaks", "leak-env");
    const everything = JSON.stringify({ task, lines });
    expect(everything).not.toContain(SECRET);
    expect(task).toMatchObject({
      status: "failed",
      error: expect.stringContaining("WAVS_ENV_TEST_API_KEY=[WAVS_ENV_TEST_API_KEY]"),
    });
    const failed = task!.steps.find((s) => s.step === "execution_failed");
    expect(failed?.detail).toMatchObject({
      kind: "component-error",
      output: ["info: environment: WAVS_ENV_TEST_API_KEY=[WAVS_ENV_TEST_API_KEY]"],
    });
    expect(lines.some((l) => l.output === "info" && l.workflow_id === "leaks")).toBe(true);
  });
});

describe("createSecretMasker", () => {
  it("masks every WAVS_ENV_ value, longest first, and nothing else", () => {
    const mask = createSecretMasker({
      WAVS_ENV_A: "abc",
      WAVS_ENV_B: "abcdef",
      WAVS_BEARER_TOKEN: "xyz",
      WAVS_ENV_EMPTY: "",
    } as unknown as Env);
    expect(mask("abcdef abc xyz")).toBe("[WAVS_ENV_B] [WAVS_ENV_A] xyz");
  });
});
