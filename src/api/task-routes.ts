import { Hono } from "hono";
import { openDb } from "../db/client";
import { getTaskWithSteps } from "../db/tasks";
import type { AppEnv } from "./app";
import { badRequest, notFound } from "./errors";

export const taskRoutes = new Hono<AppEnv>().get("/tasks/:eventId", async (c) => {
  const eventId = c.req.param("eventId").toLowerCase();
  if (!/^0x[0-9a-f]{40}$/.test(eventId)) throw badRequest("invalid_event_id", "event ids are 0x and 40 hex digits");
  const task = await getTaskWithSteps(openDb(c.env.DB), eventId);
  if (!task) throw notFound("task_not_found", `no task for event ${eventId}`);
  return c.json(task);
});
