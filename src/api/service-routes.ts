import { Hono } from "hono";
import { eq } from "drizzle-orm";
import { z } from "zod";
import { openDb } from "../db/client";
import { savedServices } from "../db/schema";
import { startCursorAt } from "../ingest/poll-chains";
import { publicClientFor } from "../chain/rpc";
import { chainByKey } from "../config";
import { registerService, saveServiceJson } from "../service/register-service";
import { sourceDigest, stringifyServiceJson as stringifyService } from "../service/service-json";
import { ensureSigningKey, listServices } from "../service/service-registry";
import type { AppEnv } from "./app";
import { ApiError, notFound } from "./errors";
import { requireBearer } from "./require-bearer";
import { readJsonBody } from "./validate";

const managerSchema = z.strictObject({
  evm: z.strictObject({
    chain: z.string().regex(/^evm:\d+$/, 'chain keys look like "evm:31337"'),
    address: z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x address").transform((a) => a as `0x${string}`),
  }),
});
const managerBody = z.strictObject({ service_manager: managerSchema });

export const serviceRoutes = new Hono<AppEnv>()
  .post("/services", requireBearer(), async (c) => {
    const { service_manager } = await readJsonBody(c, managerBody);
    // Read the chain head before registering, so the poller starts no later than this moment.
    const chain = (() => {
      try {
        return chainByKey(c.env, service_manager.evm.chain);
      } catch (e) {
        throw new ApiError(404, "unknown_chain", (e as Error).message);
      }
    })();
    const head = await publicClientFor(chain)
      .getBlockNumber()
      .catch(() => {
        throw new ApiError(502, "chain_unreachable", `could not reach ${chain.key}`);
      });
    await registerService(c.env, service_manager);
    await startCursorAt(openDb(c.env.DB), chain.key, head);
    return c.body(null, 204);
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
  });
