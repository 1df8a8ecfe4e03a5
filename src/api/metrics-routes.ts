import { Hono } from "hono";
import { openDb } from "../db/client";
import { collectMetrics } from "../metrics/collect-metrics";
import { readIsolateCounters } from "../metrics/isolate-counters";
import { counter, renderPrometheus, type MetricFamily } from "../metrics/render-prometheus";
import type { AppEnv } from "./app";
import { documentRoute } from "./api-docs";
import { readChainHeads } from "../chain/chain-heads";
import { requireBearer } from "./require-bearer";
import { nodeChains } from "../config";
import { collectAlertSnapshot } from "../alerts/collect-alert-snapshot";
import { alertWindowMs } from "../alerts/run-alerts";
import { alertMetricFamilies, readAlertMetricInputs } from "../metrics/collect-alert-metrics";

/** `GET /metrics`: Prometheus text, computed from D1 plus each chain's head. */
const METRICS_PATH = documentRoute({
  method: "get",
  path: "/metrics",
  tag: "node",
  summary: "Prometheus metrics, computed from D1 (and counters since the isolate started)",
  responses: { 200: { description: "Prometheus text format 0.0.4", contentType: "text/plain" } },
});

const COUNTERS_PATH = documentRoute({
  method: "get",
  path: "/dev/counters",
  tag: "node",
  auth: "bearer",
  summary:
    "Counters since the isolate started (D1 statements, requests between nodes, refused submissions); read by bench:e2e",
  responses: { 200: "{counters: {name: count}}" },
});

/** Peer submissions refused, by code, from the isolate's counters (never written to a timeline). */
function refusedSubmissions(): MetricFamily {
  const samples = Object.entries(readIsolateCounters())
    .filter(([name]) => name.startsWith("submissions_refused:"))
    .map(([name, value]) => ({ labels: { code: name.slice("submissions_refused:".length) }, value }));
  return counter(
    "wavs_submissions_refused_total",
    "Signed submissions refused (since the isolate started), by code.",
    samples,
  );
}

export const metricsRoutes = new Hono<AppEnv>()
  .get(METRICS_PATH, async (c) => {
    const db = openDb(c.env.DB);
    const [chains, heads] = await Promise.all([nodeChains(c.env), readChainHeads(c.env)]);
    const windowMs = alertWindowMs(c.env);
    const snapshot = await collectAlertSnapshot(db, chains, heads, windowMs);
    const [families, alertInputs] = await Promise.all([
      collectMetrics(db, heads),
      readAlertMetricInputs(db, snapshot, windowMs),
    ]);
    const body = renderPrometheus([...families, refusedSubmissions(), ...alertMetricFamilies(alertInputs)]);
    return c.body(body, 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
  })
  .get(COUNTERS_PATH, requireBearer(), (c) => c.json({ counters: readIsolateCounters() }));
