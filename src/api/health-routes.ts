import { count } from "drizzle-orm";
import { Hono } from "hono";
import { readChainHead } from "../chain/chain-heads";
import { nodeChains } from "../config";
import { openDb } from "../db/client";
import { droppedEvents } from "../db/schema";
import type { AppEnv } from "./app";
import { documentRoute } from "./api-docs";

/** WAVS's ChainHealthResult, serialised as serde does: "healthy" | {"unhealthy":{"error"}} | "unknown". */
type ChainHealth = "healthy" | { unhealthy: { error: string } } | "unknown";

/**
 * `GET /health` as WAVS answers it (`{timestamp, chains: {key: ChainHealthResult}}`), plus what this
 * node adds: each chain's head, the poller's cursor and confirmation depth, and how many events were
 * dropped before signing. 503 when a chain is unhealthy.
 */
const HEALTH_PATH = documentRoute({
  method: "get",
  path: "/health",
  tag: "node",
  summary: "Chain health as WAVS reports it, plus heads, poller cursors and dropped events",
  responses: { 200: "every chain healthy" },
  errors: { 503: "a chain is unhealthy (the body is the same report)" },
});

export const healthRoutes = new Hono<AppEnv>().get(HEALTH_PATH, async (c) => {
  const db = openDb(c.env.DB);
  const cursors = new Map((await db.query.chainCursors.findMany()).map((r) => [r.chain, r.nextBlock]));
  const results = await Promise.all(
    (await nodeChains(c.env)).map(async (chain) => {
      const poller = {
        next_block: cursors.get(chain.key) ?? null,
        confirmations: chain.confirmations,
        rpc_endpoints: chain.rpc_urls.length,
      };
      const reading = await readChainHead(chain);
      if ("error" in reading)
        return { key: chain.key, health: { unhealthy: { error: reading.error } } as ChainHealth, poller };
      return {
        key: chain.key,
        health: "healthy" as ChainHealth,
        poller: { ...poller, latest_block: Number(reading.head) },
      };
    }),
  );
  const [dropped] = await db.select({ n: count() }).from(droppedEvents);
  const ok = results.every((r) => r.health === "healthy");
  return c.json(
    {
      timestamp: new Date().toISOString(),
      chains: Object.fromEntries(results.map((r) => [r.key, r.health])),
      pollers: Object.fromEntries(results.map((r) => [r.key, r.poller])),
      dropped_events: dropped?.n ?? 0,
    },
    ok ? 200 : 503,
  );
});
