import { Hono } from "hono";
import { describeError, log } from "../log";
import { toErrorResponse } from "./errors";
import { componentRoutes } from "./component-routes";
import { serviceRoutes } from "./service-routes";
import { upgradeRoutes } from "./upgrade-routes";
import { taskRoutes } from "./task-routes";
import { healthRoutes } from "./health-routes";
import { configRoutes } from "./config-routes";
import { metricsRoutes } from "./metrics-routes";
import { alertsRoutes } from "./alerts-routes";
import { apiDocsRoutes } from "./api-docs-routes";
import { dashboardRoutes } from "./dashboard-routes";
import { limitBodies } from "./body-limits";
import { corsAllowList, rateLimit, readPeerBucket } from "./limits";
import { chainRoutes } from "./chain-routes";
import { webhookRoutes } from "./webhook-routes";
import { aggregatorRoutes } from "./aggregator-routes";
import { triggerRoutes } from "./trigger-routes";
import { keyValueRoutes } from "./keyvalue-routes";
import { serviceFilesRoutes } from "./service-files-routes";

export type AppEnv = { Bindings: Env };

export function createApp() {
  const app = new Hono<AppEnv>();

  app.use("*", corsAllowList());
  app.use("*", limitBodies());
  app.use("/webhooks/*", rateLimit("WEBHOOK_LIMITER"));
  app.use("/aggregator/*", rateLimit("PEER_LIMITER", { bucketOf: readPeerBucket }));

  app.route("/", dashboardRoutes);
  app.route("/", healthRoutes);
  app.route("/", componentRoutes);
  app.route("/", upgradeRoutes);
  app.route("/", serviceRoutes);
  app.route("/", taskRoutes);
  app.route("/", configRoutes);
  app.route("/", metricsRoutes);
  app.route("/", alertsRoutes);
  app.route("/", apiDocsRoutes);
  app.route("/", chainRoutes);
  app.route("/", webhookRoutes);
  app.route("/", aggregatorRoutes);
  app.route("/", triggerRoutes);
  app.route("/", keyValueRoutes);
  app.route("/", serviceFilesRoutes);

  app.notFound((c) =>
    c.json(
      { error: { code: "not_found", message: `no route for ${c.req.method} ${new URL(c.req.url).pathname}` } },
      404,
    ),
  );

  app.onError((err, c) => {
    const answer = toErrorResponse(err);
    if (answer.internal)
      log("error", "unhandled error", { subsys: "api", path: new URL(c.req.url).pathname, error: describeError(err) });
    return c.json(answer.body, answer.status, answer.headers);
  });

  return app;
}
