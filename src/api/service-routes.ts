import { Hono, type Context } from "hono";
import { eq } from "drizzle-orm";
import { z } from "zod";
import { openDb } from "../db/client";
import { savedServices } from "../db/schema";
import { startCursorAt } from "../ingest/poll-chains";
import { publicClientFor } from "../chain/rpc";
import { chainByKey } from "../config";
import { registerSavedService, registerService, saveServiceJson } from "../service/register-service";
import {
  parseServiceJson,
  serviceJsonSchema,
  sourceDigest,
  stringifyServiceJson,
  toCurrentShape,
} from "../service/service-json";
import { describeSubmit } from "../service/describe-submit";
import { aggregatorSettings } from "../aggregate/peers";
import { computeServiceId } from "../service/event-id";
import {
  deleteService,
  ensureSigningKey,
  findService,
  listServices,
  setOperatorPause,
  isServiceActive,
} from "../service/service-registry";
import { log } from "../log";
import type { Service } from "../service/types";
import type { AppEnv } from "./app";
import { ApiError, badRequest, notFound } from "./errors";
import { documentRoute } from "./api-docs";
import { requireBearer } from "./require-bearer";
import { readJsonBody } from "./validate";

const managerSchema = z.strictObject({
  evm: z.strictObject({
    chain: z.string().regex(/^evm:\d+$/, 'chain keys look like "evm:31337"'),
    address: z
      .string()
      .regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x address")
      .transform((a) => a as `0x${string}`),
  }),
});
const managerBody = z.strictObject({ service_manager: managerSchema });

const deleteBody = z.strictObject({ service_managers: z.array(managerSchema).min(1).max(100) });
/** Documents the path; the handler checks both through managerSchema for one error message. */
const managerPathParams = z.object({
  chain: z.string().regex(/^evm:\d+$/),
  address: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
});
const hashPathParams = z.object({ hash: z.string().regex(/^[0-9a-f]{64}$/) });

/** The chain's head, read before registering so the poller starts no later than this moment. */
async function readHead(env: Env, chainKey: string): Promise<{ chain: string; head: bigint }> {
  const chain = await chainByKey(env, chainKey).catch((e: unknown) => {
    throw new ApiError(404, "unknown_chain", (e as Error).message);
  });
  const head = await publicClientFor(chain)
    .getBlockNumber()
    .catch(() => {
      throw new ApiError(502, "chain_unreachable", `could not reach ${chain.key}`);
    });
  return { chain: chain.key, head };
}

/** A registered service as shown: WAVS's current shape (an old aggregator `url` left out), u64s exact. */
const stringifyService = (service: Service) => stringifyServiceJson(toCurrentShape(service));

/** Service JSON with u64 values written losslessly. */
const losslessJson = (text: string, status: 200 | 201 = 200) =>
  new Response(text, { status, headers: { "content-type": "application/json" } });

/** What happens to each workflow's results: the node's PEERS decide, whatever an old `url` said. */
function describeSubmits(
  registered: { id: string; service: Service }[],
  settings: Parameters<typeof describeSubmit>[1],
): Record<string, Record<string, string>> {
  return Object.fromEntries(
    registered.map(({ id, service }) => [
      id,
      Object.fromEntries(
        Object.entries(service.workflows).map(([wid, wf]) => [wid, describeSubmit(wf.submit, settings)]),
      ),
    ]),
  );
}

/** `POST /services/pause` and `/services/resume` as WAVS: `{"service_manager"}` → 204. */
function pauseRoute(action: "pause" | "resume"): string {
  return documentRoute({
    method: "post",
    path: `/services/${action}`,
    tag: "services",
    auth: "bearer",
    body: managerBody,
    summary:
      action === "pause"
        ? "Pause a service on this node: its workflows get no tasks until resumed (kept across restarts and upgrades)"
        : "Resume a service paused on this node",
    responses: { 204: action === "pause" ? "paused" : "resumed" },
    errors: { 400: "not JSON", 404: "the service is not registered", 422: "bad body" },
  });
}

async function setPause(c: Context<AppEnv>, paused: boolean): Promise<Response> {
  const { service_manager } = await readJsonBody(c, managerBody);
  const id = computeServiceId(service_manager);
  if (!(await setOperatorPause(openDb(c.env.DB), id, paused))) {
    throw notFound(
      "service_not_found",
      `no service with manager ${service_manager.evm.address} on ${service_manager.evm.chain} is registered`,
    );
  }
  log("info", paused ? "service paused by the operator" : "service resumed by the operator", {
    subsys: "api",
    service_id: id,
  });
  return c.body(null, 204);
}

export const serviceRoutes = new Hono<AppEnv>()
  .post(
    documentRoute({
      method: "post",
      path: "/services",
      tag: "services",
      auth: "bearer",
      body: managerBody,
      summary: "Register the service the manager's service URI points to (as WAVS)",
      responses: { 204: "registered" },
      errors: {
        400: "not JSON",
        404: "unknown chain or not a service manager",
        409: "already registered",
        422: "bad body or service JSON",
        502: "chain or service URI unreachable",
      },
    }),
    requireBearer(),
    async (c) => {
      const { service_manager } = await readJsonBody(c, managerBody);
      const { chain, head } = await readHead(c.env, service_manager.evm.chain);
      await registerService(c.env, service_manager);
      await startCursorAt(openDb(c.env.DB), chain, head);
      return c.body(null, 204);
    },
  )
  .delete(
    documentRoute({
      method: "delete",
      path: "/services",
      tag: "services",
      auth: "bearer",
      body: deleteBody,
      summary: "Unregister services by manager (all or nothing)",
      responses: { 204: "unregistered" },
      errors: { 404: "some managers are not registered (details.unknown)", 422: "bad body" },
    }),
    requireBearer(),
    async (c) => {
      const { service_managers } = await readJsonBody(c, deleteBody);
      const db = openDb(c.env.DB);
      const ids = service_managers.map((m) => computeServiceId(m));
      // All or nothing: name every unknown manager before deleting any.
      const unknown = [];
      for (const [i, id] of ids.entries()) if (!(await findService(db, id))) unknown.push(service_managers[i]);
      if (unknown.length > 0) {
        throw new ApiError(404, "service_not_found", `${unknown.length} of these services are not registered`, {
          unknown,
        });
      }
      for (const id of ids) await deleteService(db, id);
      return c.body(null, 204);
    },
  )
  .post(pauseRoute("pause"), requireBearer(), (c) => setPause(c, true))
  .post(pauseRoute("resume"), requireBearer(), (c) => setPause(c, false))
  .get(
    documentRoute({
      method: "get",
      path: "/services/{chain}/{address}",
      tag: "services",
      params: managerPathParams,
      summary: "One registered service's JSON (u64 values exact)",
      responses: { 200: "the service JSON" },
      errors: { 400: "malformed chain or address", 404: "not registered" },
    }),
    async (c) => {
      const parsed = managerSchema.safeParse({ evm: { chain: c.req.param("chain"), address: c.req.param("address") } });
      if (!parsed.success) {
        throw badRequest("invalid_manager", "the path is /services/{chain}/{address}, e.g. /services/evm:31337/0x…");
      }
      const found = await findService(openDb(c.env.DB), computeServiceId(parsed.data));
      if (!found) throw notFound("service_not_found", "no service registered for this manager");
      return losslessJson(stringifyService(found.service));
    },
  )
  .get(
    documentRoute({
      method: "get",
      path: "/services",
      tag: "services",
      summary:
        'Registered services: {services, service_ids, component_digests} as WAVS, plus paused_service_ids (paused by their JSON or on this node) and submits (service id → workflow id → what happens to its results, e.g. "aggregated by PEERS (3 nodes)")',
      responses: { 200: "the services" },
    }),
    async (c) => {
      const registered = await listServices(openDb(c.env.DB));
      const digests = new Set(
        registered.flatMap(({ service }) =>
          Object.values(service.workflows).map((wf) => sourceDigest(wf.component.source)),
        ),
      );
      return c.body(
        // Services carry u64 values: write them losslessly.
        `{"services":[${registered.map((r) => stringifyService(r.service)).join(",")}],` +
          `"service_ids":${JSON.stringify(registered.map((r) => r.id))},` +
          `"component_digests":${JSON.stringify([...digests])},` +
          `"paused_service_ids":${JSON.stringify(registered.filter((r) => !isServiceActive(r)).map((r) => r.id))},` +
          `"submits":${JSON.stringify(describeSubmits(registered, aggregatorSettings(c.env)))}}`,
        200,
        { "content-type": "application/json" },
      );
    },
  )
  .post(
    documentRoute({
      method: "post",
      path: "/services/signer",
      tag: "services",
      auth: "bearer",
      body: managerBody,
      summary: "The service's signing key (HD index persisted on first use)",
      responses: { 200: '{"secp256k1":{"hd_index","evm_address"}}' },
      errors: { 400: "not JSON", 422: "bad body" },
    }),
    requireBearer(),
    async (c) => {
      const { service_manager } = await readJsonBody(c, managerBody);
      const key = await ensureSigningKey(openDb(c.env.DB), c.env.WAVS_SIGNING_MNEMONIC, service_manager);
      return c.json({ secp256k1: { hd_index: key.hdIndex, evm_address: key.evmAddress } });
    },
  )
  .post(
    documentRoute({
      method: "post",
      path: "/dev/services",
      tag: "services",
      auth: "bearer",
      bodyRef: "/schemas/service.json",
      summary: "Save service JSON on the node, addressed by its sha256",
      responses: { 200: '{"hash"}' },
      errors: { 413: "over 1 MiB", 422: "not a valid service" },
    }),
    requireBearer(),
    async (c) => {
      const hash = await saveServiceJson(c.env, await c.req.text());
      return c.json({ hash });
    },
  )
  .get(
    documentRoute({
      method: "get",
      path: "/dev/services/{hash}",
      tag: "services",
      params: hashPathParams,
      summary: "Saved service JSON, byte for byte",
      responses: { 200: "the saved JSON" },
      errors: { 404: "no such hash" },
    }),
    async (c) => {
      const hash = (c.req.param("hash") ?? "").toLowerCase();
      const row = await openDb(c.env.DB).query.savedServices.findFirst({ where: eq(savedServices.hash, hash) });
      if (!row) throw notFound("service_not_found", `no saved service with hash ${hash}`);
      return c.body(row.json, 200, { "content-type": "application/json" });
    },
  )
  .post(
    documentRoute({
      method: "post",
      path: "/dev/services/{hash}",
      tag: "services",
      auth: "bearer",
      params: hashPathParams,
      summary: "Register saved service JSON directly",
      responses: { 204: "registered" },
      errors: {
        400: "malformed hash",
        404: "no such hash or unknown chain",
        409: "already registered",
        502: "chain unreachable",
      },
    }),
    requireBearer(),
    async (c) => {
      const hash = (c.req.param("hash") ?? "").toLowerCase();
      if (!/^[0-9a-f]{64}$/.test(hash))
        throw badRequest("invalid_hash", "saved services are addressed by 64 hex digits");
      const saved = await openDb(c.env.DB).query.savedServices.findFirst({ where: eq(savedServices.hash, hash) });
      if (!saved) throw notFound("service_not_found", `no saved service with hash ${hash}`);
      const service = parseServiceJson(saved.json); // saved JSON was valid when saved; throws 422 if not
      const { chain, head } = await readHead(c.env, service.manager.evm.chain);
      await registerSavedService(c.env, hash);
      await startCursorAt(openDb(c.env.DB), chain, head);
      return c.body(null, 204);
    },
  )
  .get(
    documentRoute({
      method: "get",
      path: "/schemas/service.json",
      tag: "services",
      summary: "The service JSON's JSON Schema, generated from the validator",
      responses: { 200: "a JSON Schema (2020-12)" },
    }),
    (c) => c.json(serviceJsonSchema()),
  );
