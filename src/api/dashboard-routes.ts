import { Hono } from "hono";
import { openDb } from "../db/client";
import { aggregatorSettings } from "../aggregate/peers";
import { collectDashboard } from "../dashboard/collect-dashboard";
import { renderDashboard, renderDashboardParts } from "../dashboard/render-dashboard";
import type { AppEnv } from "./app";
import { documentRoute } from "./api-docs";
import { readChainHeads } from "../chain/chain-heads";
import { wholeNumberSetting } from "../util/whole-number-setting";

/** `/`: the dashboard for browsers; `{name, docs}` for clients asking for JSON. */
const DASHBOARD_PATH = documentRoute({
  method: "get",
  path: "/",
  tag: "node",
  summary: "The dashboard (Accept: text/html); a JSON pointer to the node's routes otherwise",
  responses: {
    200: {
      description: "the dashboard page, or {name, dashboard, metrics, schema, api_docs}",
      contentType: "text/html",
    },
  },
});

/** `/dashboard.json`: the dashboard's parts as HTML by name, which the page's script swaps in place. */
const DASHBOARD_JSON_PATH = documentRoute({
  method: "get",
  path: "/dashboard.json",
  tag: "node",
  summary:
    "The dashboard's parts (alerts, services, activity, latency, errors, chains, upgrades, tasks) as HTML, for the page's refresh",
  responses: { 200: "{generated_at, sections: {name: html}}" },
});

/** DASHBOARD_REFRESH_SECONDS in ms: 1-3600 s, else 5 s. */
const refreshMs = (raw: string | undefined) => wholeNumberSetting(raw, 1, 3600, 5) * 1000;

const collect = async (env: Env) =>
  collectDashboard(openDb(env.DB), await readChainHeads(env), aggregatorSettings(env));

export const dashboardRoutes = new Hono<AppEnv>()
  .get(DASHBOARD_PATH, async (c) => {
    if (!c.req.header("accept")?.includes("text/html")) {
      return c.json({
        name: "wavs-edge",
        dashboard: "open / in a browser",
        metrics: "/metrics",
        alerts: "/alerts",
        schema: "/schemas/service.json",
        api_docs: "/api-docs",
      });
    }
    return c.html(renderDashboard(await collect(c.env), refreshMs(c.env.DASHBOARD_REFRESH_SECONDS)));
  })
  .get(DASHBOARD_JSON_PATH, async (c) => {
    const now = Date.now();
    return c.json({ generated_at: now, sections: renderDashboardParts(await collect(c.env), now) }, 200, {
      "cache-control": "no-store",
    });
  });
