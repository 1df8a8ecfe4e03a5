import { Hono } from "hono";
import { openDb } from "../db/client";
import { estimateMessageBytes, MAX_MESSAGE_BYTES, sendTriggerMessages } from "../ingest/enqueue-events";
import { buildManualMessages, countDoneEvents, simulatedTriggerRequestSchema } from "../ingest/manual-triggers";
import { log } from "../log";
import { findService, isServiceActive } from "../service/service-registry";
import { ForbiddenKeyError, parseLosslessJson } from "../service/lossless-json";
import { documentRoute } from "./api-docs";
import type { AppEnv } from "./app";
import { ApiError, badRequest, notFound } from "./errors";
import { requireBearer } from "./require-bearer";
import { forbiddenKey } from "./validate";

/** How long `wait_for_completion` holds the request before answering 504. */
export const MANUAL_TRIGGER_WAIT_MS = 30_000;
const WAIT_POLL_MS = 250;

export const triggerRoutes = new Hono<AppEnv>().post(
  documentRoute({
    method: "post",
    path: "/dev/triggers",
    tag: "triggers",
    auth: "bearer",
    body: simulatedTriggerRequestSchema,
    summary:
      "Fire a workflow by hand, as WAVS's simulated trigger ({service_id, workflow_id, trigger, data, count, wait_for_completion})",
    responses: { 200: "enqueued (and, with wait_for_completion, every run finished): {event_keys, completed}" },
    errors: {
      400: "not JSON",
      404: "unknown service or workflow",
      409: "the service is paused",
      413: "the data makes a queue message over 128 KB",
      422: "bad body",
      504: `wait_for_completion: not all runs finished within ${MANUAL_TRIGGER_WAIT_MS / 1000} s (they go on; details.done, details.count)`,
    },
  }),
  requireBearer(),
  async (c) => {
    // Read losslessly: Cron trigger times are u64 nanoseconds, beyond what JSON.parse keeps exact.
    let body: unknown;
    try {
      body = parseLosslessJson(await c.req.text());
    } catch (e) {
      if (e instanceof ForbiddenKeyError) throw forbiddenKey(e);
      throw badRequest("invalid_json", "the request body is not valid JSON");
    }
    const parsed = simulatedTriggerRequestSchema.safeParse(body);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
      throw new ApiError(422, "invalid_body", `${issues[0]!.path || "body"}: ${issues[0]!.message}`, issues);
    }
    const req = parsed.data;
    const db = openDb(c.env.DB);
    const registered = await findService(db, req.service_id);
    if (!registered) throw notFound("service_not_found", `no registered service ${req.service_id}`);
    if (!registered.service.workflows[req.workflow_id])
      throw notFound("workflow_not_found", `service has no workflow ${req.workflow_id}`);
    if (!isServiceActive(registered))
      throw new ApiError(409, "service_paused", "the service is paused: its workflows get no tasks");

    const messages = buildManualMessages(req);
    const size = estimateMessageBytes(messages[0]!);
    if (size > MAX_MESSAGE_BYTES)
      throw new ApiError(
        413,
        "message_too_large",
        `the trigger data makes a queue message of about ${size} bytes; the queue takes ${MAX_MESSAGE_BYTES}`,
      );
    await sendTriggerMessages(c.env.TRIGGERS, messages);
    const eventKeys = messages.map((m) => m.eventKey);
    log("info", "manual trigger enqueued", {
      subsys: "ingest",
      service_id: req.service_id,
      workflow_id: req.workflow_id,
      count: req.count,
    });
    if (!req.wait_for_completion) return c.json({ event_keys: eventKeys, completed: false });

    const deadline = Date.now() + MANUAL_TRIGGER_WAIT_MS;
    for (;;) {
      const done = await countDoneEvents(db, eventKeys);
      if (done === eventKeys.length) return c.json({ event_keys: eventKeys, completed: true });
      if (Date.now() >= deadline) {
        throw new ApiError(
          504,
          "wait_timeout",
          `${done} of ${eventKeys.length} runs finished within ${MANUAL_TRIGGER_WAIT_MS / 1000} s; the rest go on`,
          { done, count: eventKeys.length, event_keys: eventKeys },
        );
      }
      await new Promise((r) => setTimeout(r, WAIT_POLL_MS));
    }
  },
);
