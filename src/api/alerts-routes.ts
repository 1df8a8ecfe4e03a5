import { Hono } from "hono";
import { z } from "zod";
import { countNotifications, listAlerts } from "../alerts/alert-store";
import { viewAlert } from "../alerts/alert-view";
import { configuredSinkKinds } from "../alerts/run-alerts";
import { openDb } from "../db/client";
import type { AppEnv } from "./app";
import { documentRoute } from "./api-docs";
import { readQuery } from "./validate";

const alertsQuery = z.strictObject({
  /** Resolved alerts returned at most, newest first. */
  limit: z.coerce.number().int().min(0).max(200).default(50),
});

/**
 * `GET /alerts`: the node's own alerts (src/alerts/), open ones first, then recently resolved, and
 * how their notifications fared per sink. Public like /metrics: it names sinks by kind, never by URL.
 */
const ALERTS_PATH = documentRoute({
  method: "get",
  path: "/alerts",
  tag: "node",
  query: alertsQuery,
  summary: "Active alerts and recently resolved ones (limit, default 50), with per-sink delivery counts",
  responses: { 200: "{active, recent, sinks: [{sink, configured, delivered, pending, given_up, failed_attempts}]}" },
  errors: { 422: "bad query" },
});

export const alertsRoutes = new Hono<AppEnv>().get(ALERTS_PATH, async (c) => {
  const query = readQuery(c, alertsQuery);
  const db = openDb(c.env.DB);
  const [{ active, recent }, counts] = await Promise.all([listAlerts(db, query.limit), countNotifications(db)]);
  const configured = configuredSinkKinds(c.env);
  const sinks = [...new Set([...configured, ...counts.map((n) => n.sink)])].sort().map((sink) => {
    const n = counts.find((x) => x.sink === sink);
    return {
      sink,
      configured: configured.includes(sink as never),
      delivered: n?.delivered ?? 0,
      pending: n?.pending ?? 0,
      given_up: n?.gaveUp ?? 0,
      failed_attempts: n?.failedAttempts ?? 0,
    };
  });
  return c.json({ active: active.map(viewAlert), recent: recent.map(viewAlert), sinks });
});
