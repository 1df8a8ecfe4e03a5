/**
 * Service upgrades (ServiceURIUpdated) never hold the poller: the handler settles every upgrade in
 * bounded time (applied, refused, left to retry, or kept for the operator's approval) and never
 * throws for a bad or unreachable URI. Driven through the real handler, D1, R2 and a real HTTP
 * server on 127.0.0.1 (test/worker/http-server.global.ts; `/unavailable…` answers 503).
 */
import { env, SELF } from "cloudflare:test";
import { sha256, toHex, type Hex } from "viem";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { openDb } from "../../src/db/client";
import { storeComponent } from "../../src/execute/component-store";
import type { ChainLog } from "../../src/ingest/log-to-trigger-data";
import {
  createServiceUriUpdateHandler,
  retryPendingUpgrades,
  upgradeRetryDelayMs,
} from "../../src/ingest/service-upgrades";
import { saveServiceJson } from "../../src/service/register-service";
import { stringifyServiceJson } from "../../src/service/service-json";
import { ensureSigningKey, findService, insertService } from "../../src/service/service-registry";
import type { Service } from "../../src/service/types";
import { computeServiceId } from "../../src/service/event-id";
import { builtComponent, componentFor } from "./component-fixtures";

/** A loaded 2-core machine can stall the test's HTTP server for seconds: no deadline in the way here. */
const SLOW_MACHINE = { attemptTimeoutMs: 90_000 };
const auth = { authorization: "Bearer test-token" };
let echo: string;
let square: string;
let aggregator: string;
let logIndex = 0;
const base = () => `http://127.0.0.1:${inject("httpServerPort")}`;

/** A ServiceURIUpdated log from `address` (only the fields the handler reads matter). */
function uriLog(address: Hex): ChainLog {
  logIndex++;
  return {
    address,
    topics: [],
    data: "0x",
    blockNumber: 100n + BigInt(logIndex),
    blockHash: toHex(logIndex, { size: 32 }),
    transactionHash: toHex(logIndex + 1000, { size: 32 }),
    transactionIndex: 0,
    logIndex,
  };
}

function serviceAt(address: Hex, digest = echo, config: Record<string, string> = {}): Service {
  return {
    name: "upgradable",
    status: "active",
    manager: { evm: { chain: "evm:31337", address } },
    workflows: { echo: { trigger: "manual", component: componentFor(digest, config), submit: "none" } },
  };
}

async function register(address: Hex): Promise<string> {
  const service = serviceAt(address);
  const db = openDb(env.DB);
  await insertService(db, service);
  await ensureSigningKey(db, env.WAVS_SIGNING_MNEMONIC, service.manager);
  return computeServiceId(service.manager);
}

async function upgrades(serviceId: string) {
  const res = await SELF.fetch(`http://node/services/upgrades?service_id=${serviceId}`, { headers: auth });
  expect(res.status).toBe(200);
  return (
    (await res.json()) as {
      upgrades: { id: number; status: string; error: string | null; changes: string[]; attempts: number }[];
    }
  ).upgrades;
}

const currentService = async (id: string) => (await findService(openDb(env.DB), id))!.service;

beforeAll(async () => {
  echo = (await storeComponent(env, builtComponent("trigger-echo"))).digest;
  square = (await storeComponent(env, builtComponent("square"))).digest;
  aggregator = (await storeComponent(env, builtComponent("simple-aggregator"))).digest;
});

describe("service upgrades never block intake", () => {
  it("an unreachable URI is left to retry in the background; the retry applies it once the URI is back", async () => {
    const address: Hex = "0x00000000000000000000000000000000000000e1";
    const id = await register(address);
    const handle = createServiceUriUpdateHandler(env, SLOW_MACHINE);
    const next = serviceAt(address, echo, { version: "2" }); // config only: applies without approval
    const text = stringifyServiceJson(next);
    const hash = sha256(new TextEncoder().encode(text)).slice(2);
    // Not saved yet: the node fetches it over HTTP and gets a 503.
    const uri = `${base()}/unavailable/dev/services/${hash}`;

    await handle("evm:31337", uriLog(address), uri); // resolves: the poller's cursor moves on
    const [pending] = await upgrades(id);
    expect(pending).toMatchObject({ status: "retrying", attempts: 1 });
    expect(pending!.error).toMatch(/^service_uri_unreachable/);
    expect((await currentService(id)).workflows.echo!.component.config).toEqual({});

    // Not due yet: nothing retried.
    expect(await retryPendingUpgrades(env, SLOW_MACHINE, Date.now())).toBe(0);
    // Due, still down: one more attempt, later next time.
    expect(await retryPendingUpgrades(env, SLOW_MACHINE, Date.now() + upgradeRetryDelayMs(1, 60_000) + 1)).toBe(1);
    expect((await upgrades(id))[0]).toMatchObject({ status: "retrying", attempts: 2 });

    // The URI is back (saved on this node, read from D1): the next due retry applies it.
    await saveServiceJson(env, text);
    expect(await retryPendingUpgrades(env, SLOW_MACHINE, Date.now() + 10 * 60 * 60_000)).toBe(1);
    expect((await upgrades(id))[0]).toMatchObject({ status: "applied", attempts: 3, error: null });
    expect((await currentService(id)).workflows.echo!.component.config).toEqual({ version: "2" });
  });

  it("a newer ServiceURIUpdated supersedes an older upgrade still pending", async () => {
    const address: Hex = "0x00000000000000000000000000000000000000e2";
    const id = await register(address);
    const handle = createServiceUriUpdateHandler(env, SLOW_MACHINE);
    await handle("evm:31337", uriLog(address), `${base()}/unavailable/one`);
    const { hash } = { hash: await saveServiceJson(env, stringifyServiceJson(serviceAt(address, echo, { v: "3" }))) };
    await handle("evm:31337", uriLog(address), `${base()}/dev/services/${hash}`);
    expect((await upgrades(id)).map((u) => u.status)).toEqual(["applied", "superseded"]);
    // The superseded one is never retried.
    expect(await retryPendingUpgrades(env, SLOW_MACHINE, Date.now() + 10 * 60 * 60_000)).toBe(0);
    expect((await currentService(id)).workflows.echo!.component.config).toEqual({ v: "3" });
  });

  it("refuses for good, and records in dropped events, JSON that is not a service and bytes that are not the component they claim", async () => {
    const address: Hex = "0x00000000000000000000000000000000000000e3";
    const id = await register(address);
    const handle = createServiceUriUpdateHandler(env, SLOW_MACHINE);

    await handle("evm:31337", uriLog(address), `${base()}/not-json`);
    // Bytes that match their declared sha256 but are no component (the server's own answer).
    const junkUri = `${base()}/junk.wasm`;
    const junkDigest = sha256(new TextEncoder().encode("hello from GET /junk.wasm")).slice(2);
    const junk = serviceAt(address);
    junk.workflows.echo!.component.source = { download: { uri: junkUri, digest: junkDigest } };
    await handle(
      "evm:31337",
      uriLog(address),
      `${base()}/dev/services/${await saveServiceJson(env, stringifyServiceJson(junk))}`,
    );
    // An aggregator component where the operator's is needed.
    const wrongKind = serviceAt(address, aggregator);
    await handle(
      "evm:31337",
      uriLog(address),
      `${base()}/dev/services/${await saveServiceJson(env, stringifyServiceJson(wrongKind))}`,
    );

    // On a loaded machine the test's HTTP server can miss the fetch deadline: that is a transient
    // failure, retried; the retry then refuses for good.
    for (let i = 0; i < 3 && (await upgrades(id)).some((r) => r.status === "retrying"); i++) {
      await retryPendingUpgrades(env, SLOW_MACHINE, Date.now() + 10 * 60 * 60_000);
    }
    const rows = await upgrades(id);
    expect(rows.map((r) => r.status)).toEqual(["refused", "refused", "refused"]);
    expect(rows.map((r) => r.error!.split(":")[0])).toEqual([
      "wrong_component_kind",
      "not_a_component",
      "invalid_service",
    ]);
    expect(await currentService(id)).toEqual(serviceAt(address));
    const dropped = (await (await SELF.fetch("http://node/dev/dropped-events", { headers: auth })).json()) as {
      dropped_events: { source: string; reason: string }[];
    };
    const reasons = dropped.dropped_events
      .filter((d) => d.source === "service-upgrade")
      .map((d) => d.reason.split(":")[0]);
    expect(reasons).toEqual(expect.arrayContaining(["wrong_component_kind", "not_a_component", "invalid_service"]));
    expect(await retryPendingUpgrades(env, SLOW_MACHINE, Date.now() + 10 * 60 * 60_000)).toBe(0);

    const metrics = await (await SELF.fetch("http://node/metrics")).text();
    expect(metrics).toMatch(/wavs_service_upgrades\{status="refused"\} [1-9]/);
  });

  it("a URI that does not answer in time holds the poller no longer than the attempt's deadline, and is retried", async () => {
    const address: Hex = "0x00000000000000000000000000000000000000e5";
    const id = await register(address);
    const t0 = Date.now();
    await createServiceUriUpdateHandler(env, { attemptTimeoutMs: 300 })(
      "evm:31337",
      uriLog(address),
      `${base()}/slow/service.json`,
    );
    expect(Date.now() - t0).toBeLessThan(10_000); // the status below tells the deadline from the 3 s answer
    const [row] = await upgrades(id);
    expect(row).toMatchObject({ status: "retrying" });
    expect(row!.error).toMatch(/^upgrade_timeout/);
  });

  it("the same log read twice (a run that failed part-way) is handled once", async () => {
    const address: Hex = "0x00000000000000000000000000000000000000e4";
    const id = await register(address);
    const handle = createServiceUriUpdateHandler(env, SLOW_MACHINE);
    const log = uriLog(address);
    await handle("evm:31337", log, `${base()}/unavailable/again`);
    await handle("evm:31337", log, `${base()}/unavailable/again`);
    expect(await upgrades(id)).toHaveLength(1);
  });
});

describe("upgrade approval", () => {
  it("an upgrade that swaps a component waits for POST /services/upgrades/{id}/approve; a config change does not", async () => {
    const address: Hex = "0x00000000000000000000000000000000000000f1";
    const id = await register(address);
    const handle = createServiceUriUpdateHandler(env, SLOW_MACHINE);
    const swapped = serviceAt(address, square);
    await handle(
      "evm:31337",
      uriLog(address),
      `${base()}/dev/services/${await saveServiceJson(env, stringifyServiceJson(swapped))}`,
    );
    const [waiting] = await upgrades(id);
    expect(waiting).toMatchObject({ status: "awaiting_approval" });
    expect(waiting!.changes).toEqual([expect.stringMatching(/^workflow "echo": component /)]);
    expect((await currentService(id)).workflows.echo!.component.source).toEqual({ digest: echo });

    const listed = (await (
      await SELF.fetch("http://node/services/upgrades?status=awaiting_approval", { headers: auth })
    ).json()) as { upgrades: { id: number }[] };
    expect(listed.upgrades.map((u) => u.id)).toContain(waiting!.id);
    const dashboard = await (await SELF.fetch("http://node/", { headers: { accept: "text/html" } })).text();
    expect(dashboard).toContain(`wavs-edge upgrades approve ${waiting!.id}`);
    expect((await SELF.fetch(`http://node/services/upgrades/${waiting!.id}/approve`, { method: "POST" })).status).toBe(
      401,
    );
    const approved = await SELF.fetch(`http://node/services/upgrades/${waiting!.id}/approve`, {
      method: "POST",
      headers: auth,
    });
    expect(approved.status).toBe(200);
    expect(await approved.json()).toMatchObject({ id: waiting!.id, status: "applied" });
    expect((await currentService(id)).workflows.echo!.component.source).toEqual({ digest: square });
    // Twice: 409, not applied again.
    const again = await SELF.fetch(`http://node/services/upgrades/${waiting!.id}/approve`, {
      method: "POST",
      headers: auth,
    });
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ error: { code: "upgrade_not_pending" } });
  });

  it("permissions and env_keys changes wait too; a rejected upgrade leaves the service as it was", async () => {
    const address: Hex = "0x00000000000000000000000000000000000000f2";
    const id = await register(address);
    const handle = createServiceUriUpdateHandler(env, SLOW_MACHINE);
    const wider = serviceAt(address);
    wider.workflows.echo!.component.permissions.allowed_http_hosts = "all";
    await handle(
      "evm:31337",
      uriLog(address),
      `${base()}/dev/services/${await saveServiceJson(env, stringifyServiceJson(wider))}`,
    );
    const [waiting] = await upgrades(id);
    expect(waiting!.changes).toEqual([expect.stringContaining("permissions")]);
    const rejected = await SELF.fetch(`http://node/services/upgrades/${waiting!.id}/reject`, {
      method: "POST",
      headers: auth,
    });
    expect(await rejected.json()).toMatchObject({
      status: "refused",
      error: expect.stringMatching(/^rejected_by_operator/),
    });
    expect(await currentService(id)).toEqual(serviceAt(address));
    expect(
      (await SELF.fetch(`http://node/services/upgrades/${waiting!.id}/approve`, { method: "POST", headers: auth }))
        .status,
    ).toBe(409);
    expect(
      (await SELF.fetch("http://node/services/upgrades/999999/approve", { method: "POST", headers: auth })).status,
    ).toBe(404);
    expect(
      (await SELF.fetch("http://node/services/upgrades/abc/approve", { method: "POST", headers: auth })).status,
    ).toBe(400);
  });

  it("a service on AUTO_UPGRADE_SERVICES takes such upgrades at once", async () => {
    const address: Hex = "0x00000000000000000000000000000000000000f3";
    const id = await register(address);
    const handle = createServiceUriUpdateHandler(
      { ...env, AUTO_UPGRADE_SERVICES: `${"0".repeat(64)}, ${id}` },
      SLOW_MACHINE,
    );
    await handle(
      "evm:31337",
      uriLog(address),
      `${base()}/dev/services/${await saveServiceJson(env, stringifyServiceJson(serviceAt(address, square)))}`,
    );
    expect((await upgrades(id))[0]).toMatchObject({ status: "applied" });
    expect((await currentService(id)).workflows.echo!.component.source).toEqual({ digest: square });
  });
});
