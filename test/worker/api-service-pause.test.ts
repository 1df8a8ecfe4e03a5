import { env, SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { openDb } from "../../src/db/client";
import { storeComponent } from "../../src/execute/component-store";
import { listTimerWorkflows } from "../../src/ingest/timer-triggers";
import {
  ensureSigningKey,
  insertService,
  listServices,
  pausedServiceIds,
  replaceService,
} from "../../src/service/service-registry";
import type { Service } from "../../src/service/types";
import { computeServiceId } from "../../src/service/event-id";
import { builtComponent, componentFor } from "./component-fixtures";

const json = { authorization: "Bearer test-token", "content-type": "application/json" };
const manager = { evm: { chain: "evm:31337", address: "0x00000000000000000000000000000000000000c9" as `0x${string}` } };
const serviceId = computeServiceId(manager);
let service: Service;

async function post(path: string, body: unknown, headers: Record<string, string> = json) {
  const res = await SELF.fetch(`http://node${path}`, {
    method: "POST",
    headers,
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const fire = () =>
  post("/dev/triggers", {
    service_id: serviceId,
    workflow_id: "echo",
    trigger: "manual",
    data: { Raw: [1, 2, 3] },
    wait_for_completion: false,
  });

beforeAll(async () => {
  const { digest } = await storeComponent(env, builtComponent("trigger-echo"));
  service = {
    name: "pausable",
    status: "active",
    manager,
    workflows: {
      echo: { trigger: "manual", component: componentFor(digest), submit: "none" },
      ticks: {
        trigger: { block_interval: { chain: "evm:31337", n_blocks: 10, start_block: null, end_block: null } },
        component: componentFor(digest),
        submit: "none",
      },
    },
  };
  const db = openDb(env.DB);
  await insertService(db, service);
  await ensureSigningKey(db, env.WAVS_SIGNING_MNEMONIC, manager);
});

describe("POST /services/pause and /services/resume (as WAVS)", () => {
  it("pause stops every trigger path of the service on this node, survives an upgrade, and resume restarts them", async () => {
    const db = openDb(env.DB);
    expect((await fire()).status).toBe(200);

    expect(await post("/services/pause", { service_manager: manager })).toEqual({ status: 204, body: undefined });
    expect(await fire()).toMatchObject({ status: 409, body: { error: { code: "service_paused" } } });
    expect(await pausedServiceIds(db)).toContain(serviceId); // poller and webhooks
    expect(listTimerWorkflows(await listServices(db)).blocks.filter((b) => b.serviceId === serviceId)).toEqual([]);
    const listed = (await (await SELF.fetch("http://node/services")).json()) as { paused_service_ids: string[] };
    expect(listed.paused_service_ids).toContain(serviceId);

    // A new service JSON (ServiceURIUpdated) says active: the operator's pause stands.
    await replaceService(db, { ...service, name: "pausable v2" });
    expect((await fire()).status).toBe(409);

    expect(await post("/services/resume", { service_manager: manager })).toEqual({ status: 204, body: undefined });
    expect((await fire()).status).toBe(200);
    expect(await pausedServiceIds(db)).not.toContain(serviceId);
    expect(listTimerWorkflows(await listServices(db)).blocks.map((b) => b.serviceId)).toContain(serviceId);
  });

  it("refuses an unknown service (404), a bad body (422) and a missing token (401)", async () => {
    const unknown = { evm: { chain: "evm:31337", address: `0x${"9".repeat(40)}` } };
    expect(await post("/services/pause", { service_manager: unknown })).toMatchObject({
      status: 404,
      body: { error: { code: "service_not_found" } },
    });
    expect((await post("/services/resume", { service_manager: { evm: { chain: "evm:1" } } })).status).toBe(422);
    expect(
      (await post("/services/pause", { service_manager: manager }, { "content-type": "application/json" })).status,
    ).toBe(401);
  });
});
