import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { openDb } from "../db/client";
import { readIsolateCounters } from "../metrics/isolate-counters";
import { computeServiceId } from "./event-id";
import { findService, insertService, replaceService, setOperatorPause } from "./service-registry";
import type { Service } from "./types";

const statements = () => readIsolateCounters().d1_statements ?? 0;

function service(address: `0x${string}`, status: Service["status"] = "active"): Service {
  return { name: "cached", status, manager: { evm: { chain: "evm:7", address } }, workflows: {} };
}

describe("findService", () => {
  it("reads D1 once for repeated lookups, and sees this isolate's upgrade and pause at once", async () => {
    const db = openDb(env.DB);
    const before = service("0x00000000000000000000000000000000000000c1");
    const id = computeServiceId(before.manager);
    expect(await insertService(db, before)).toBe(true);
    expect((await findService(db, id))?.service.status).toBe("active");
    const counted = statements();
    for (let i = 0; i < 5; i++) expect((await findService(db, id))?.pausedByOperator).toBe(false);
    expect(statements()).toBe(counted);

    expect(await replaceService(db, service("0x00000000000000000000000000000000000000c1", "paused"))).toBe(true);
    expect((await findService(db, id))?.service.status).toBe("paused");
    expect(await setOperatorPause(db, id, true)).toBe(true);
    expect((await findService(db, id))?.pausedByOperator).toBe(true);
  });
});
