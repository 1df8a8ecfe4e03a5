import { Hono } from "hono";
import { z } from "zod";
import { openDb } from "../db/client";
import { approveUpgrade, rejectUpgrade } from "../ingest/service-upgrades";
import { listUpgrades, upgradeView } from "../service/service-upgrade-store";
import { serviceIdSchema } from "../service/service-json";
import type { AppEnv } from "./app";
import { documentRoute } from "./api-docs";
import { badRequest } from "./errors";
import { readQuery } from "./validate";
import { requireBearer } from "./require-bearer";

const listQuery = z.strictObject({
  status: z.enum(["retrying", "awaiting_approval", "applied", "refused", "superseded", "gave_up"]).optional(),
  service_id: serviceIdSchema.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});
const idParams = z.object({ id: z.string().regex(/^\d{1,12}$/) });

function upgradeId(raw: string | undefined): number {
  if (!raw || !/^\d{1,12}$/.test(raw))
    throw badRequest("invalid_upgrade_id", "upgrade ids are whole numbers, as GET /services/upgrades lists them");
  return Number(raw);
}

/** Service upgrades seen on chain: the list, and the operator's approval or rejection. */
export const upgradeRoutes = new Hono<AppEnv>()
  .get(
    documentRoute({
      method: "get",
      path: "/services/upgrades",
      tag: "services",
      auth: "bearer",
      query: listQuery,
      summary:
        "Service upgrades (ServiceURIUpdated) and their status: awaiting_approval, retrying, applied, refused, superseded, gave_up; newest first",
      responses: { 200: "{upgrades}" },
      errors: { 401: "no bearer token", 422: "bad query" },
    }),
    requireBearer(),
    async (c) => {
      const { status, service_id, limit } = readQuery(c, listQuery);
      const rows = await listUpgrades(openDb(c.env.DB), { status, serviceId: service_id, limit });
      return c.json({ upgrades: rows.map(upgradeView) });
    },
  )
  .post(
    documentRoute({
      method: "post",
      path: "/services/upgrades/{id}/approve",
      tag: "services",
      auth: "bearer",
      params: idParams,
      summary: "Approve an upgrade that changes components, env_keys or permissions: it applies now",
      responses: { 200: "the upgrade, now applied" },
      errors: {
        400: "malformed id",
        401: "no bearer token",
        404: "no such upgrade, or the service is gone",
        409: "not awaiting approval (superseded, applied, refused)",
        422: "the service lists a secret it is not granted",
      },
    }),
    requireBearer(),
    async (c) => c.json(upgradeView(await approveUpgrade(c.env, upgradeId(c.req.param("id"))))),
  )
  .post(
    documentRoute({
      method: "post",
      path: "/services/upgrades/{id}/reject",
      tag: "services",
      auth: "bearer",
      params: idParams,
      summary: "Reject a pending upgrade for good: the service keeps its current version",
      responses: { 200: "the upgrade, now refused" },
      errors: { 400: "malformed id", 401: "no bearer token", 404: "no such upgrade", 409: "not pending" },
    }),
    requireBearer(),
    async (c) => c.json(upgradeView(await rejectUpgrade(c.env, upgradeId(c.req.param("id"))))),
  );
