import { Hono } from "hono";
import { openDb } from "../db/client";
import { collectMetrics } from "../metrics/collect-metrics";
import { renderPrometheus } from "../metrics/render-prometheus";
import type { AppEnv } from "./app";
import { documentRoute } from "./api-docs";
import { readChainHeads } from "./chain-heads";

/** `GET /metrics`: Prometheus text, computed from D1 plus each chain's head. */
const METRICS_PATH = documentRoute({
  method: "get", path: "/metrics", tag: "node",
  summary: "Prometheus metrics, computed from D1",
  responses: { 200: { description: "Prometheus text format 0.0.4", contentType: "text/plain" } },
});

export const metricsRoutes = new Hono<AppEnv>().get(METRICS_PATH, async (c) => {
  const body = renderPrometheus(await collectMetrics(openDb(c.env.DB), await readChainHeads(c.env)));
  return c.body(body, 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
});
