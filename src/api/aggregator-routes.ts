import { Hono } from "hono";
import { isAddress, type Hex } from "viem";
import { acceptSubmission, SubmissionRefusedError, taskAggregatorName } from "../aggregate/accept-submission";
import { readSubmission, submissionSchema, SubmissionError } from "../aggregate/submission";
import type { AppEnv } from "./app";
import { ApiError, badRequest, notFound } from "./errors";
import { readJsonBody } from "./validate";

/**
 * Peer routes. Submissions carry no bearer token: they authenticate by their signature, whose
 * signer must be registered with weight in the service's manager.
 */
export const aggregatorRoutes = new Hono<AppEnv>()
  .post("/aggregator/submissions", async (c) => {
    const body = await readJsonBody(c, submissionSchema);
    let submission;
    try {
      submission = readSubmission(body);
    } catch (e) {
      if (e instanceof SubmissionError) throw new ApiError(422, "invalid_body", e.message);
      throw e;
    }
    try {
      const status = await acceptSubmission(c.env, submission, "peer");
      return c.json({ event_id: submission.eventId, ...status }, 202);
    } catch (e) {
      if (e instanceof SubmissionRefusedError) throw new ApiError(e.status, e.code, e.message);
      throw e;
    }
  })
  .get("/aggregator/tasks/:eventId", async (c) => {
    const eventId = c.req.param("eventId").toLowerCase();
    if (!/^0x[0-9a-f]{40}$/.test(eventId)) throw badRequest("invalid_event_id", "event ids are 0x and 40 hex digits");
    const chain = c.req.query("chain") ?? "";
    const handler = c.req.query("handler") ?? "";
    if (!/^evm:\d+$/.test(chain)) throw badRequest("invalid_chain", 'chain looks like "evm:31337"');
    if (!isAddress(handler)) throw badRequest("invalid_handler", "handler is a 0x address");
    const name = taskAggregatorName(eventId as Hex, { chain, handler: handler as Hex });
    const status = await c.env.TASK_AGGREGATOR.get(c.env.TASK_AGGREGATOR.idFromName(name)).getStatus();
    if (!status) throw notFound("task_not_found", `no aggregation for event ${eventId} on this node`);
    return c.json(status);
  });
