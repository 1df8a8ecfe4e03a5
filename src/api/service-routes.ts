import { Hono } from "hono";
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
  stringifyServiceJson as stringifyService,
} from "../service/service-json";
import { computeServiceId } from "../sign/event-id";
import { deleteService, ensureSigningKey, findService, listServices } from "../service/service-registry";
import type { AppEnv } from "./app";
import { ApiError, badRequest, notFound } from "./errors";
import { requireBearer } from "./require-bearer";
import { readJsonBody } from "./validate";

const managerSchema = z.strictObject({
  evm: z.strictObject({
    chain: z.string().regex(/^evm:\d+$/, 'chain keys look like "evm:31337"'),
    address: z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x address").transform((a) => a as `0x${string}`),
  }),
});
const managerBody = z.strictObject({ service_manager: managerSchema });

const deleteBody = z.strictObject({ service_managers: z.array(managerSchema).min(1).max(100) });

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

/** Service JSON with u64 values written losslessly. */
const losslessJson = (text: string, status: 200 | 201 = 200) =>
  new Response(text, { status, headers: { "content-type": "application/json" } });

export const serviceRoutes = new Hono<AppEnv>()
  .post("/services", requireBearer(), async (c) => {
    const { service_manager } = await readJsonBody(c, managerBody);
    const { chain, head } = await readHead(c.env, service_manager.evm.chain);
    await registerService(c.env, service_manager);
    await startCursorAt(openDb(c.env.DB), chain, head);
    return c.body(null, 204);
  })
  .delete("/services", requireBearer(), async (c) => {
    const { service_managers } = await readJsonBody(c, deleteBody);
    const db = openDb(c.env.DB);
    const ids = service_managers.map((m) => computeServiceId(m));
    // All or nothing: name every unknown manager before deleting any.
    const unknown = [];
    for (const [i, id] of ids.entries()) if (!(await findService(db, id))) unknown.push(service_managers[i]);
    if (unknown.length > 0) {
      throw new ApiError(404, "service_not_found", `${unknown.length} of these services are not registered`, { unknown });
    }
    for (const id of ids) await deleteService(db, id);
    return c.body(null, 204);
  })
  .get("/services/:chain/:address", async (c) => {
    const parsed = managerSchema.safeParse({ evm: { chain: c.req.param("chain"), address: c.req.param("address") } });
    if (!parsed.success) {
      throw badRequest("invalid_manager", "the path is /services/{chain}/{address}, e.g. /services/evm:31337/0x…");
    }
    const found = await findService(openDb(c.env.DB), computeServiceId(parsed.data));
    if (!found) throw notFound("service_not_found", "no service registered for this manager");
    return losslessJson(stringifyService(found.service));
  })
  .get("/services", async (c) => {
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
        `"component_digests":${JSON.stringify([...digests])}}`,
      200,
      { "content-type": "application/json" },
    );
  })
  .post("/services/signer", requireBearer(), async (c) => {
    const { service_manager } = await readJsonBody(c, managerBody);
    const key = await ensureSigningKey(openDb(c.env.DB), c.env.WAVS_SIGNING_MNEMONIC, service_manager);
    return c.json({ secp256k1: { hd_index: key.hdIndex, evm_address: key.evmAddress } });
  })
  .post("/dev/services", requireBearer(), async (c) => {
    const hash = await saveServiceJson(c.env, await c.req.text());
    return c.json({ hash });
  })
  .get("/dev/services/:hash", async (c) => {
    const hash = c.req.param("hash").toLowerCase();
    const row = await openDb(c.env.DB).query.savedServices.findFirst({ where: eq(savedServices.hash, hash) });
    if (!row) throw notFound("service_not_found", `no saved service with hash ${hash}`);
    return c.body(row.json, 200, { "content-type": "application/json" });
  })
  .post("/dev/services/:hash", requireBearer(), async (c) => {
    const hash = c.req.param("hash").toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(hash)) throw badRequest("invalid_hash", "saved services are addressed by 64 hex digits");
    const saved = await openDb(c.env.DB).query.savedServices.findFirst({ where: eq(savedServices.hash, hash) });
    if (!saved) throw notFound("service_not_found", `no saved service with hash ${hash}`);
    const service = parseServiceJson(saved.json); // saved JSON was valid when saved; throws 422 if not
    const { chain, head } = await readHead(c.env, service.manager.evm.chain);
    await registerSavedService(c.env, hash);
    await startCursorAt(openDb(c.env.DB), chain, head);
    return c.body(null, 204);
  })
  .get("/schemas/service.json", (c) => c.json(serviceJsonSchema()));
