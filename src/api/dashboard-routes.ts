import { Hono } from "hono";
import { openDb } from "../db/client";
import { collectDashboard } from "../dashboard/collect-dashboard";
import { renderDashboard } from "../dashboard/render-dashboard";
import type { AppEnv } from "./app";
import { readChainHeads } from "./chain-heads";

/** `/`: the dashboard for browsers; `{name, docs}` for clients asking for JSON. */
export const dashboardRoutes = new Hono<AppEnv>().get("/", async (c) => {
  if (!c.req.header("accept")?.includes("text/html")) {
    return c.json({ name: "wavs-edge", dashboard: "open / in a browser", metrics: "/metrics", schema: "/schemas/service.json" });
  }
  const data = await collectDashboard(openDb(c.env.DB), await readChainHeads(c.env));
  return c.html(renderDashboard(data));
});
