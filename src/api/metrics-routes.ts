import { Hono } from "hono";
import { openDb } from "../db/client";
import { collectMetrics } from "../metrics/collect-metrics";
import { renderPrometheus } from "../metrics/render-prometheus";
import type { AppEnv } from "./app";
import { readChainHeads } from "./chain-heads";

/** `GET /metrics`: Prometheus text, computed from D1 plus each chain's head. */
export const metricsRoutes = new Hono<AppEnv>().get("/metrics", async (c) => {
  const body = renderPrometheus(await collectMetrics(openDb(c.env.DB), await readChainHeads(c.env)));
  return c.body(body, 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
});
