import { Hono } from "hono";
import { openDb } from "../db/client";
import { aggregatorSettings } from "../aggregate/peers";
import { collectDashboard } from "../dashboard/collect-dashboard";
import { renderDashboard } from "../dashboard/render-dashboard";
import type { AppEnv } from "./app";
import { documentRoute } from "./api-docs";
import { readChainHeads } from "../chain/chain-heads";

/** `/`: the dashboard for browsers; `{name, docs}` for clients asking for JSON. */
const DASHBOARD_PATH = documentRoute({
  method: "get", path: "/", tag: "node",
  summary: "The dashboard (Accept: text/html); a JSON pointer to the node's routes otherwise",
  responses: { 200: { description: "the dashboard page, or {name, dashboard, metrics, schema, api_docs}", contentType: "text/html" } },
});

export const dashboardRoutes = new Hono<AppEnv>().get(DASHBOARD_PATH, async (c) => {
  if (!c.req.header("accept")?.includes("text/html")) {
    return c.json({ name: "wavs-edge", dashboard: "open / in a browser", metrics: "/metrics", schema: "/schemas/service.json", api_docs: "/api-docs" });
  }
  const data = await collectDashboard(openDb(c.env.DB), await readChainHeads(c.env), aggregatorSettings(c.env));
  return c.html(renderDashboard(data));
});
