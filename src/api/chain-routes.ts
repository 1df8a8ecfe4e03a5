import { desc } from "drizzle-orm";
import { Hono } from "hono";
import { z } from "zod";
import { checkRpcChainId } from "../chain/check-chain-id";
import { redactRpcUrl } from "../chain/rpc";
import {
  addChainRequestSchema,
  chainFromAddRequest,
  configuredChains,
  nodeChains,
  removeAddedChain,
  saveAddedChain,
} from "../config";
import { openDb } from "../db/client";
import { droppedEvents } from "../db/schema";
import { log } from "../log";
import type { AppEnv } from "./app";
import { documentRoute } from "./api-docs";
import { ApiError } from "./errors";
import { requireBearer } from "./require-bearer";
import { readJsonBody, readQuery } from "./validate";
import { allowsPrivateNetwork } from "../service/sources/network-policy";

const chainKeyParams = z.object({ key: z.string().regex(/^[a-z0-9-]+:[a-zA-Z0-9_-]+$/) });
const droppedQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(500).default(50) });

export const chainRoutes = new Hono<AppEnv>()
  /**
   * WAVS's add-chain: persisted in D1, polled from the next scheduled run. 409 when already known.
   * Every endpoint must be a public address (unless ALLOW_PRIVATE_NETWORK_URIS) and answer
   * eth_chainId with the key's id.
   */
  .post(
    documentRoute({
      method: "post",
      path: "/dev/chains",
      tag: "chains",
      auth: "bearer",
      body: addChainRequestSchema,
      summary:
        "Add a chain (as WAVS), persisted and polled from the next scheduled run; each endpoint must answer eth_chainId with the key's id",
      responses: { 200: "added" },
      errors: {
        400: "not JSON",
        409: "already configured",
        422: "bad body; an endpoint on a private address (chain_not_allowed, unless ALLOW_PRIVATE_NETWORK_URIS) or on another chain (chain_id_mismatch)",
        502: "an endpoint did not answer eth_chainId (chain_unreachable)",
      },
    }),
    requireBearer(),
    async (c) => {
      const chain = chainFromAddRequest(await readJsonBody(c, addChainRequestSchema));
      if ((await nodeChains(c.env)).some((known) => known.key === chain.key)) {
        throw new ApiError(409, "chain_exists", `chain ${chain.key} is already configured on this node`);
      }
      const allowPrivate = allowsPrivateNetwork(c.env);
      for (const url of chain.rpc_urls) await checkRpcChainId(url, chain.chain_id, allowPrivate);
      if (!(await saveAddedChain(c.env, chain))) {
        throw new ApiError(409, "chain_exists", `chain ${chain.key} is already configured on this node`);
      }
      log("info", "chain added", { subsys: "ingest", chain: chain.key, rpc: chain.rpc_urls.map(redactRpcUrl) });
      return c.body(null, 200);
    },
  )
  /** Forgets a chain added with POST /dev/chains (its services' triggers on it stop being polled). */
  .delete(
    documentRoute({
      method: "delete",
      path: "/dev/chains/{key}",
      tag: "chains",
      auth: "bearer",
      params: chainKeyParams,
      summary: "Remove a chain added with POST /dev/chains; chains from the CHAINS var stay",
      responses: { 204: "removed" },
      errors: { 404: "no such chain", 409: "configured in CHAINS (change the var instead)", 422: "bad key" },
    }),
    requireBearer(),
    async (c) => {
      const parsed = chainKeyParams.safeParse({ key: c.req.param("key") });
      if (!parsed.success) throw new ApiError(422, "invalid_chain_key", 'a chain key looks like "evm:31337"');
      const { key } = parsed.data;
      if (configuredChains(c.env).some((known) => known.key === key)) {
        throw new ApiError(
          409,
          "chain_configured",
          `chain ${key} comes from the CHAINS var; change the var to remove it`,
        );
      }
      if (!(await removeAddedChain(c.env, key)))
        throw new ApiError(404, "chain_not_found", `no chain ${key} was added at run time`);
      log("info", "chain removed", { subsys: "ingest", chain: key });
      return c.body(null, 204);
    },
  )
  /** The node's chains; RPC URLs reduced to scheme and host (they often carry API keys). */
  .get(
    documentRoute({
      method: "get",
      path: "/dev/chains",
      tag: "chains",
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
      method: "get",
      path: "/dev/dropped-events",
      tag: "chains",
      query: droppedQuery,
      summary: "Events dropped before signing (forged, reorged, not on chain), newest first",
      responses: { 200: "{dropped_events}" },
      errors: { 422: "bad query" },
    }),
    async (c) => {
      const { limit } = readQuery(c, droppedQuery);
      const rows = await openDb(c.env.DB).select().from(droppedEvents).orderBy(desc(droppedEvents.id)).limit(limit);
      return c.json({
        dropped_events: rows.map((r) => ({
          source: r.source,
          chain: r.chain,
          event_key: r.eventKey,
          reason: r.reason,
          at: r.at,
        })),
      });
    },
  );
