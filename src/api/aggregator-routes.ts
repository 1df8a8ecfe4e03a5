import { Hono } from "hono";
import { isAddress, type Hex } from "viem";
import { acceptSubmission } from "../aggregate/accept-submission";
import { taskAggregatorName } from "../aggregate/run-aggregator";
import { MAX_BATCH_SUBMISSIONS, readSubmission, SubmissionError, submissionSchema } from "../aggregate/submission";
import { aggregatorSettings, choosePeerBucket, PEER_HEADER } from "../aggregate/peers";
import { landedNoticeSchema } from "../aggregate/push-landed";
import type { AppEnv } from "./app";
import { z } from "zod";
import { documentRoute } from "./api-docs";
import { ApiError, badRequest, notFound, toErrorResponse } from "./errors";
import { describeError, log } from "../log";
import { readJsonBody } from "./validate";
import { countIn } from "../metrics/isolate-counters";
import type { BatchItemAnswer } from "../aggregate/peer-client";

/**
 * Peer routes. Submissions carry no bearer token: they authenticate by their signature, whose
 * signer must be registered with weight in the service's manager.
 */
/** Document the path and query; the handler checks each for its own error code. */
const taskParams = z.object({ eventId: z.string().regex(/^0x[0-9a-fA-F]{40}$/) });
const taskQuery = z.object({
  service: z.string().regex(/^[0-9a-f]{64}$/),
  workflow: z.string().regex(/^[a-z0-9_-]{3,36}$/),
  chain: z.string().regex(/^evm:\d+$/),
  handler: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
});

/** POST /aggregator/submissions/batch: Submission JSONs, each validated on its own. */
export const submissionBatchSchema = z.strictObject({
  submissions: z.array(z.unknown()).min(1).max(MAX_BATCH_SUBMISSIONS),
});

/** One item of a batch as POST /aggregator/submissions would answer it alone: `{status, body}`. Never throws. */
async function takeOneOfBatch(env: Env, raw: unknown): Promise<BatchItemAnswer> {
  try {
    const parsed = submissionSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new ApiError(422, "invalid_body", `${issue.path.join(".") || "body"}: ${issue.message}`);
    }
    let submission: ReturnType<typeof readSubmission>;
    try {
      submission = readSubmission(parsed.data);
    } catch (e) {
      if (e instanceof SubmissionError) countIn(`submissions_refused:${e.code}`);
      throw e;
    }
    const status = await acceptSubmission(env, submission, "peer");
    return { status: 202, body: { event_id: submission.eventId, ...status } };
  } catch (e) {
    const answer = toErrorResponse(e);
    if (answer.internal)
      log("error", "unhandled error", {
        subsys: "api",
        path: "/aggregator/submissions/batch",
        error: describeError(e),
      });
    return { status: answer.status, body: answer.body };
  }
}

export const aggregatorRoutes = new Hono<AppEnv>()
  // Every request between nodes arrives here: counted for bench:e2e (GET /dev/counters).
  .use("/aggregator/*", async function countPeerRequests(c, next) {
    countIn(
      `peer_requests_received:${c.req.method} ${c.req.path.startsWith("/aggregator/tasks/") ? "/aggregator/tasks" : c.req.path}`,
    );
    await next();
  })
  .post(
    documentRoute({
      method: "post",
      path: "/aggregator/submissions",
      tag: "aggregator",
      body: submissionSchema,
      summary: "A peer's signed response (WAVS Submission JSON); authenticated by its signature",
      responses: { 202: "accepted: {event_id, status, …}" },
      errors: {
        400: "not JSON",
        403: "signer not registered with weight in the service's manager",
        404: "service not registered here",
        409: "refused by the aggregation (duplicate or conflicting)",
        422: "bad submission or signature",
        429: "rate limited",
      },
    }),
    async (c) => {
      const body = await readJsonBody(c, submissionSchema, { lossless: true });
      // SubmissionError (422 invalid_body, event_id_mismatch) and SubmissionRefusedError carry their own answers.
      let submission: ReturnType<typeof readSubmission>;
      try {
        submission = readSubmission(body);
      } catch (e) {
        if (e instanceof SubmissionError) countIn(`submissions_refused:${e.code}`);
        throw e;
      }
      const status = await acceptSubmission(c.env, submission, "peer");
      return c.json({ event_id: submission.eventId, ...status }, 202);
    },
  )
  .post(
    documentRoute({
      method: "post",
      path: "/aggregator/submissions/batch",
      tag: "aggregator",
      body: submissionBatchSchema,
      summary:
        "Several signed responses in one request (wavs-edge peers; WAVS's own route above takes one); each answered on its own",
      responses: {
        200: "{results: [{status, body}]} in the order given: each item's HTTP status and body as POST /aggregator/submissions would answer it alone",
      },
      errors: { 400: "not JSON", 413: "body too large", 422: "not a list of 1 to 64 submissions", 429: "rate limited" },
    }),
    async (c) => {
      const { submissions } = await readJsonBody(c, submissionBatchSchema, { lossless: true });
      const results = await Promise.all(submissions.map((raw) => takeOneOfBatch(c.env, raw)));
      return c.json({ results }, 200);
    },
  )
  .post(
    documentRoute({
      method: "post",
      path: "/aggregator/landed",
      tag: "aggregator",
      body: landedNoticeSchema,
      summary: "A peer's notice that tasks landed; each is adopted only once this node's RPC shows the transaction",
      responses: { 202: "{results: [adopted | unknown | ignored | unverified | unreadable]} in the order given" },
      errors: { 400: "not JSON", 413: "body too large", 422: "malformed notice", 429: "rate limited" },
    }),
    async (c) => {
      const { tasks } = await readJsonBody(c, landedNoticeSchema);
      const claimed = choosePeerBucket(c.req.header(PEER_HEADER), aggregatorSettings(c.env).peers);
      const peer = claimed === "other" ? "peer" : claimed;
      const results = await Promise.all(
        tasks.map(async (t) => {
          const name = taskAggregatorName(
            { serviceId: t.service_id, workflowId: t.workflow_id, eventId: t.event_id },
            { chain: t.chain, handler: t.handler },
          );
          const task = c.env.TASK_AGGREGATOR.get(c.env.TASK_AGGREGATOR.idFromName(name));
          // An RPC hiccup here is the notice's loss only: the task's fallback poll still asks.
          return task.noteLanded(t.tx_hash, peer).catch(() => "unreadable" as const);
        }),
      );
      return c.json({ results }, 202);
    },
  )
  .get(
    documentRoute({
      method: "get",
      path: "/aggregator/tasks/{eventId}",
      tag: "aggregator",
      params: taskParams,
      query: taskQuery,
      summary: "This node's aggregation state for an event of a service's workflow and a submit target",
      responses: { 200: "signatures collected, quorum, submission" },
      errors: {
        400: "malformed event id, service, workflow, chain or handler",
        404: "no aggregation here",
        429: "rate limited",
      },
    }),
    async (c) => {
      const eventId = (c.req.param("eventId") ?? "").toLowerCase();
      if (!/^0x[0-9a-f]{40}$/.test(eventId)) throw badRequest("invalid_event_id", "event ids are 0x and 40 hex digits");
      const serviceId = c.req.query("service") ?? "";
      const workflowId = c.req.query("workflow") ?? "";
      const chain = c.req.query("chain") ?? "";
      const handler = c.req.query("handler") ?? "";
      if (!/^[0-9a-f]{64}$/.test(serviceId))
        throw badRequest("invalid_service_id", "service is 64 lowercase hex digits");
      if (!/^[a-z0-9_-]{3,36}$/.test(workflowId))
        throw badRequest("invalid_workflow_id", "workflow is 3–36 of [a-z0-9_-]");
      if (!/^evm:\d+$/.test(chain)) throw badRequest("invalid_chain", 'chain looks like "evm:31337"');
      if (!isAddress(handler)) throw badRequest("invalid_handler", "handler is a 0x address");
      const name = taskAggregatorName(
        { serviceId, workflowId, eventId: eventId as Hex },
        { chain, handler: handler as Hex },
      );
      const status = await c.env.TASK_AGGREGATOR.get(c.env.TASK_AGGREGATOR.idFromName(name)).getStatus();
      if (!status) throw notFound("task_not_found", `no aggregation for event ${eventId} on this node`);
      return c.json(status);
    },
  );
