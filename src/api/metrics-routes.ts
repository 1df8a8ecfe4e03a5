import { Hono } from "hono";
import { publicClientFor } from "../chain/rpc";
import { nodeChains } from "../config";
import { openDb } from "../db/client";
import { collectMetrics } from "../metrics/collect-metrics";
import { renderPrometheus } from "../metrics/render-prometheus";
import type { AppEnv } from "./app";

/** A dead RPC must not stall a scrape: heads not known by then are reported as down. */
const HEAD_TIMEOUT_MS = 3_000;

/** `GET /metrics`: Prometheus text, computed from D1 plus each chain's head. */
export const metricsRoutes = new Hono<AppEnv>().get("/metrics", async (c) => {
  const heads = await Promise.all(
    (await nodeChains(c.env)).map(async (chain) => {
      const head = await Promise.race([
        publicClientFor(chain).getBlockNumber().catch(() => null),
        new Promise<null>((r) => setTimeout(() => r(null), HEAD_TIMEOUT_MS)),
      ]);
      return { chain: chain.key, head };
    }),
  );
  const body = renderPrometheus(await collectMetrics(openDb(c.env.DB), heads));
  return c.body(body, 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
});
