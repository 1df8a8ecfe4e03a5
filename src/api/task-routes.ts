import { and, desc, eq, type SQL } from "drizzle-orm";
import { Hono } from "hono";
import { z } from "zod";
import { openDb } from "../db/client";
import { tasks } from "../db/schema";
import { getTaskWithSteps, DEFAULT_STEPS_PAGE, MAX_STEPS_PAGE } from "../db/tasks";
import { serviceIdSchema } from "../service/service-json";
import type { AppEnv } from "./app";
import { documentRoute } from "./api-docs";
import { badRequest, notFound } from "./errors";
import { readQuery } from "./validate";

const listQuery = z.strictObject({
  service_id: serviceIdSchema.optional(),
  workflow_id: z.string().optional(),
  status: z.enum(["executing", "signed", "submitted", "landed", "failed"]).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

const eventIdParams = z.object({ eventId: z.string().regex(/^0x[0-9a-fA-F]{40}$/) });
const stepsQuery = z.strictObject({
  steps_after: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_STEPS_PAGE).default(DEFAULT_STEPS_PAGE),
});

export const taskRoutes = new Hono<AppEnv>()
  .get(
    documentRoute({
      method: "get",
      path: "/tasks",
      tag: "tasks",
      query: listQuery,
      summary: "Recent tasks, newest first, filtered by service, workflow or status",
      responses: { 200: "{tasks}" },
      errors: { 422: "bad query" },
    }),
    async (c) => {
      const q = readQuery(c, listQuery);
      const filters: SQL[] = [];
      if (q.service_id) filters.push(eq(tasks.serviceId, q.service_id));
      if (q.workflow_id) filters.push(eq(tasks.workflowId, q.workflow_id));
      if (q.status) filters.push(eq(tasks.status, q.status));
      const rows = await openDb(c.env.DB)
        .select()
        .from(tasks)
        .where(and(...filters))
        .orderBy(desc(tasks.createdAt))
        .limit(q.limit);
      return c.json({ tasks: rows });
    },
  )
  .get(
    documentRoute({
      method: "get",
      path: "/tasks/{eventId}",
      tag: "tasks",
      params: eventIdParams,
      query: stepsQuery,
      summary: `One task with a page of its timeline (limit steps, default ${DEFAULT_STEPS_PAGE}); next_steps_after, when present, is the steps_after of the next page`,
      responses: { 200: "the task and its steps" },
      errors: { 400: "malformed event id", 404: "no such task", 422: "bad query" },
    }),
    async (c) => {
      const eventId = (c.req.param("eventId") ?? "").toLowerCase();
      if (!/^0x[0-9a-f]{40}$/.test(eventId)) throw badRequest("invalid_event_id", "event ids are 0x and 40 hex digits");
      const steps = readQuery(c, stepsQuery);
      const task = await getTaskWithSteps(openDb(c.env.DB), eventId, {
        stepsAfter: steps.steps_after,
        limit: steps.limit,
      });
      if (!task) throw notFound("task_not_found", `no task for event ${eventId}`);
      const { nextStepsAfter, ...rest } = task;
      return c.json({ ...rest, ...(nextStepsAfter !== undefined ? { next_steps_after: nextStepsAfter } : {}) });
    },
  );
