import { env, SELF } from "cloudflare:test";
import { bytesToHex } from "viem";
import { beforeAll, describe, expect, it } from "vitest";
import { openDb } from "../../src/db/client";
import { storeComponent } from "../../src/execute/component-store";
import { ensureSigningKey, insertService } from "../../src/service/service-registry";
import type { Service } from "../../src/service/types";
import { computeEventId, computeServiceId, encodeTriggerDataSalt } from "../../src/service/event-id";
import { builtComponent, componentFor } from "./component-fixtures";

const json = { authorization: "Bearer test-token", "content-type": "application/json" };

async function post(body: unknown | string, headers: Record<string, string> = json) {
  const res = await SELF.fetch("http://node/dev/triggers", {
    method: "POST",
    headers,
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const manager = (n: number) => ({
  evm: { chain: "evm:31337", address: `0x${n.toString(16).padStart(40, "0")}` as `0x${string}` },
});
let serviceId: string;
let pausedId: string;

beforeAll(async () => {
  const { digest } = await storeComponent(env, builtComponent("trigger-echo"));
  const service = (n: number, status: Service["status"]): Service => ({
    name: "manual",
    status,
    manager: manager(n),
    workflows: { echo: { trigger: "manual", component: componentFor(digest), submit: "none" } },
  });
  const db = openDb(env.DB);
  for (const [n, status] of [
    [0x71, "active"],
    [0x72, "paused"],
  ] as const) {
    await insertService(db, service(n, status));
    await ensureSigningKey(db, env.WAVS_SIGNING_MNEMONIC, manager(n));
  }
  serviceId = computeServiceId(manager(0x71));
  pausedId = computeServiceId(manager(0x72));
});

describe("POST /dev/triggers (WAVS's simulated trigger)", () => {
  it("runs the workflow and, with wait_for_completion, answers once it has run; the event id comes from the data", async () => {
    const data = [...new TextEncoder().encode('{"x":5}')];
    const res = await post({
      service_id: serviceId,
      workflow_id: "echo",
      trigger: "manual",
      data: { Raw: data },
      count: 1,
      wait_for_completion: true,
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ completed: true, event_keys: [expect.stringMatching(/^manual:/)] });

    const eventId = bytesToHex(
      computeEventId(serviceId, "echo", encodeTriggerDataSalt({ Raw: Uint8Array.from(data) })),
    );
    const task = await SELF.fetch(`http://node/tasks/${eventId}`);
    expect(task.status).toBe(200);
    expect(((await task.json()) as { steps: { detail?: { source?: string } }[] }).steps[0]!.detail?.source).toBe(
      "manual",
    );
  });

  it("keeps u64 cron times exact and enqueues `count` runs (count defaults to 1)", async () => {
    const body = `{"service_id":"${serviceId}","workflow_id":"echo","trigger":"manual","data":{"Cron":{"trigger_time":1763900000123456789}},"wait_for_completion":true}`;
    const res = await post(body);
    expect(res.status).toBe(200);
    expect(res.body.event_keys).toHaveLength(1);
    const eventId = bytesToHex(
      computeEventId(serviceId, "echo", encodeTriggerDataSalt({ Cron: { trigger_time: 1763900000123456789n } })),
    );
    expect((await SELF.fetch(`http://node/tasks/${eventId}`)).status).toBe(200);

    const three = await post({
      service_id: serviceId,
      workflow_id: "echo",
      trigger: "manual",
      data: { Raw: "0x0102" },
      count: 3,
      wait_for_completion: false,
    });
    expect(three.status).toBe(200);
    expect(three.body).toMatchObject({ completed: false });
    expect(new Set(three.body.event_keys).size).toBe(3);
  });

  it("refuses unknown services and workflows, paused services, bad bodies and missing tokens", async () => {
    const ok = {
      service_id: serviceId,
      workflow_id: "echo",
      trigger: "manual",
      data: { Raw: [1] },
      wait_for_completion: false,
    };
    expect((await post({ ...ok, service_id: "0".repeat(64) })).body.error.code).toBe("service_not_found");
    expect((await post({ ...ok, workflow_id: "nope" })).status).toBe(404);
    const paused = await post({ ...ok, service_id: pausedId });
    expect(paused.status).toBe(409);
    expect(paused.body.error.code).toBe("service_paused");
    for (const bad of [
      { ...ok, count: 0 },
      { ...ok, data: { Raw: [256] } },
      { ...ok, wait_for_completion: undefined },
      { ...ok, trigger: "cron" },
      { ...ok, data: { Nope: 1 } },
    ]) {
      const res = await post(bad);
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe("invalid_body");
    }
    expect((await post("{nope")).status).toBe(400);
    expect((await post(ok, { "content-type": "application/json" })).status).toBe(401);
  });
});
