import { desc } from "drizzle-orm";
import { Hono } from "hono";
import { z } from "zod";
import { redactRpcUrl } from "../chain/rpc";
import { addChainRequestSchema, chainFromAddRequest, nodeChains, saveAddedChain } from "../config";
import { openDb } from "../db/client";
import { droppedEvents } from "../db/schema";
import { log } from "../log";
import type { AppEnv } from "./app";
import { documentRoute } from "./api-docs";
import { ApiError } from "./errors";
import { requireBearer } from "./require-bearer";
import { readJsonBody } from "./validate";

const droppedQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(500).default(50) });

export const chainRoutes = new Hono<AppEnv>()
  /** WAVS's add-chain: persisted in D1, polled from the next scheduled run. 409 when already known. */
  .post(
    documentRoute({
      method: "post", path: "/dev/chains", tag: "chains", auth: "bearer", body: addChainRequestSchema,
      summary: "Add a chain (as WAVS), persisted and polled from the next scheduled run",
      responses: { 200: "added" },
      errors: { 400: "not JSON", 409: "already configured", 422: "bad body" },
    }),
    requireBearer(),
    async (c) => {
      const chain = chainFromAddRequest(await readJsonBody(c, addChainRequestSchema));
      if ((await nodeChains(c.env)).some((known) => known.key === chain.key) || !(await saveAddedChain(c.env, chain))) {
        throw new ApiError(409, "chain_exists", `chain ${chain.key} is already configured on this node`);
      }
      log("info", "chain added", { subsys: "ingest", chain: chain.key, rpc: chain.rpc_urls.map(redactRpcUrl) });
      return c.body(null, 200);
    },
  )
  /** The node's chains; RPC URLs reduced to scheme and host (they often carry API keys). */
  .get(
    documentRoute({
      method: "get", path: "/dev/chains", tag: "chains",
      summary: "The node's chains; RPC URLs reduced to scheme and host",
      responses: { 200: "{chains}" },
    }),
    async (c) => {
      const chains = await nodeChains(c.env);
      return c.json({
        chains: chains.map((ch) => ({
          chain: ch.key,
          chain_id: ch.chain_id,
          http_endpoints: ch.rpc_urls.map(redactRpcUrl),
          confirmations: ch.confirmations,
          poll_range: ch.poll_range,
        })),
      });
    },
  )
  /** Events dropped before signing (forged, reorged, not on chain), newest first. */
  .get(
    documentRoute({
      method: "get", path: "/dev/dropped-events", tag: "chains", query: droppedQuery,
      summary: "Events dropped before signing (forged, reorged, not on chain), newest first",
      responses: { 200: "{dropped_events}" },
      errors: { 422: "bad query" },
    }),
    async (c) => {
      const parsed = droppedQuery.safeParse(c.req.query());
      if (!parsed.success) throw new ApiError(422, "invalid_query", parsed.error.issues[0]!.message);
      const rows = await openDb(c.env.DB)
        .select()
        .from(droppedEvents)
        .orderBy(desc(droppedEvents.id))
        .limit(parsed.data.limit);
      return c.json({ dropped_events: rows.map((r) => ({ source: r.source, chain: r.chain, event_key: r.eventKey, reason: r.reason, at: r.at })) });
    },
  );
