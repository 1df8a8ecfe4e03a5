/**
 * WAVS_ENV_ secrets are granted per service (SERVICE_ENV_GRANTS): a service naming one it was not
 * granted is refused at registration and at upgrade with the name, never the value, and a
 * component never reads one its service was not granted.
 */
import { env } from "cloudflare:test";
import type { Hex } from "viem";
import { beforeAll, describe, expect, it } from "vitest";
import { openDb } from "../../src/db/client";
import { storeComponent } from "../../src/execute/component-store";
import { runOperatorComponent } from "../../src/execute/run-component";
import { createServiceUriUpdateHandler } from "../../src/ingest/service-upgrades";
import { registerSavedService, saveServiceJson } from "../../src/service/register-service";
import { stringifyServiceJson } from "../../src/service/service-json";
import { ensureSigningKey, findService, insertService } from "../../src/service/service-registry";
import type { Service } from "../../src/service/types";
import { computeServiceId } from "../../src/service/event-id";
import { actionFor, builtComponent, componentFor, raw, serviceFor, utf8 } from "./component-fixtures";
import { emptyNodeStorage } from "./empty-node";

// Fixed ids and digests, or counts over the whole node: start from an empty D1 and R2 (empty-node.ts).
beforeAll(emptyNodeStorage);

let probe: string;
beforeAll(async () => {
  probe = (await storeComponent(env, builtComponent("wasi-probe"))).digest;
});

function withKeys(address: Hex, keys: string[]): Service {
  const component = { ...componentFor(probe), env_keys: keys };
  return {
    name: "secrets",
    status: "active",
    manager: { evm: { chain: "evm:31337", address } },
    workflows: { probe: { trigger: "manual", component, submit: "none" } },
  };
}
const grantsFor = (grants: Record<string, string[]>) => ({ ...env, SERVICE_ENV_GRANTS: JSON.stringify(grants) });

describe("SERVICE_ENV_GRANTS", () => {
  it("refuses at registration a service listing a secret it was not granted, naming it, never its value", async () => {
    const service = withKeys("0x00000000000000000000000000000000000000b7", ["WAVS_ENV_TEST_API_KEY"]);
    const id = computeServiceId(service.manager);
    const hash = await saveServiceJson(env, stringifyServiceJson(service));
    const other = grantsFor({ ["c".repeat(64)]: ["WAVS_ENV_TEST_API_KEY"] });
    const error = await registerSavedService(other, hash).catch((e: unknown) => e);
    expect(error).toMatchObject({
      status: 422,
      code: "env_key_not_granted",
      details: { service_id: id, not_granted: [{ workflow: "probe", key: "WAVS_ENV_TEST_API_KEY" }] },
    });
    expect((error as Error).message).toContain("WAVS_ENV_TEST_API_KEY");
    expect(JSON.stringify(error) + (error as Error).message).not.toContain("component-secret");
    expect(await findService(openDb(env.DB), id)).toBeUndefined();
    // Granted to this service: it registers.
    expect(await registerSavedService(grantsFor({ [id]: ["WAVS_ENV_TEST_API_KEY"] }), hash)).toMatchObject({
      serviceId: id,
    });
  });

  it("refuses an upgrade that adds a secret the service was not granted; the service keeps its version", async () => {
    const address: Hex = "0x00000000000000000000000000000000000000b8";
    const before = withKeys(address, []);
    const db = openDb(env.DB);
    await insertService(db, before);
    await ensureSigningKey(db, env.WAVS_SIGNING_MNEMONIC, before.manager);
    const hash = await saveServiceJson(env, stringifyServiceJson(withKeys(address, ["WAVS_ENV_VISIT_API_KEY"])));
    const noGrants = { ...grantsFor({}), AUTO_UPGRADE_SERVICES: "*" };
    const log = {
      address,
      topics: [],
      data: "0x",
      blockNumber: 7n,
      blockHash: `0x${"77".repeat(32)}`,
      transactionHash: `0x${"78".repeat(32)}`,
      transactionIndex: 0,
      logIndex: 0,
    } as const;
    await createServiceUriUpdateHandler(noGrants)("evm:31337", log, `http://node/dev/services/${hash}`);
    const row = await db.query.serviceUpgrades.findFirst({
      where: (u, { eq }) => eq(u.eventKey, `evm:31337:${log.blockHash}:${log.transactionHash}:0`),
    });
    expect(row).toMatchObject({
      status: "refused",
      error: expect.stringMatching(/^env_key_not_granted: .*WAVS_ENV_VISIT_API_KEY/),
    });
    expect(row!.error).not.toContain("visit-secret");
    expect((await findService(db, computeServiceId(before.manager)))!.service).toEqual(before);
  });

  it("a component never reads a secret its service was not granted, even if its JSON lists it", async () => {
    const service = serviceFor(probe);
    service.workflows.default!.component.env_keys = ["WAVS_ENV_TEST_API_KEY", "WAVS_ENV_VISIT_API_KEY"];
    const serviceId = "d".repeat(64);
    const run = async (grants: Record<string, string[]>) =>
      JSON.parse(
        utf8(
          (
            await runOperatorComponent(grantsFor(grants), {
              service,
              serviceId,
              workflowId: "default",
              action: actionFor(service, raw("env")),
              chains: [],
            })
          ).responses[0]!.payload,
        ),
      );
    expect(await run({ [serviceId]: ["WAVS_ENV_VISIT_API_KEY"] })).toEqual([
      ["WAVS_ENV_VISIT_API_KEY", "visit-secret"],
    ]);
    expect(await run({ ["e".repeat(64)]: ["WAVS_ENV_TEST_API_KEY", "WAVS_ENV_VISIT_API_KEY"] })).toEqual([]);
  });
});
