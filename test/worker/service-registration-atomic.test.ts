/**
 * Registration is whole or not at all, however many contract-event workflows a service has (D1
 * binds at most 100 parameters per statement): real D1, with a real SQLite trigger to make one
 * statement of the batch fail part-way.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { openDb } from "../../src/db/client";
import { evmTriggersOnChain, findService, insertService } from "../../src/service/service-registry";
import type { Service } from "../../src/service/types";
import { computeServiceId } from "../../src/service/event-id";
import { componentFor, NEW_TRIGGER_TOPIC } from "./component-fixtures";

function manyWorkflows(address: `0x${string}`, n: number): Service {
  const workflows: Service["workflows"] = {};
  for (let i = 0; i < n; i++) {
    workflows[`wf-${String(i).padStart(3, "0")}`] = {
      trigger: {
        evm_contract_event: {
          address: `0x${(i + 1).toString(16).padStart(40, "0")}`,
          chain: "evm:7",
          event_hash: NEW_TRIGGER_TOPIC,
        },
      },
      component: componentFor("a".repeat(64)),
      submit: "none",
    };
  }
  return { name: "wide", status: "active", manager: { evm: { chain: "evm:7", address } }, workflows };
}

describe("service registration", () => {
  it("stores a service with 200 contract-event workflows and indexes every trigger", async () => {
    const db = openDb(env.DB);
    const service = manyWorkflows("0x00000000000000000000000000000000000000a7", 200);
    expect(await insertService(db, service)).toBe(true);
    const triggers = (await evmTriggersOnChain(db, "evm:7")).filter(
      (t) => t.serviceId === computeServiceId(service.manager),
    );
    expect(triggers).toHaveLength(200);
    expect(await insertService(db, service)).toBe(false);
  });

  it("stores nothing when one statement of the registration fails part-way", async () => {
    const db = openDb(env.DB);
    const service = manyWorkflows("0x00000000000000000000000000000000000000a8", 200);
    const id = computeServiceId(service.manager);
    // Workflow 150 is in the 8th trigger statement, long after the service row.
    await env.DB.exec(
      `CREATE TRIGGER fail_wf_150 BEFORE INSERT ON evm_triggers WHEN NEW.workflow_id = 'wf-150' AND NEW.service_id = '${id}' BEGIN SELECT RAISE(ABORT, 'injected failure'); END;`,
    );
    try {
      await expect(insertService(db, service)).rejects.toThrow(/injected failure/);
    } finally {
      await env.DB.exec("DROP TRIGGER fail_wf_150;");
    }
    expect(await findService(db, id)).toBeUndefined();
    expect((await evmTriggersOnChain(db, "evm:7")).filter((t) => t.serviceId === id)).toEqual([]);
    // Nothing half-stored stands in the way: the same registration now goes through.
    expect(await insertService(db, service)).toBe(true);
  });
});
