import { Hono } from "hono";
import { chainByKey } from "../config";
import { openDb } from "../db/client";
import { forgetDelivery, ingestWebhookLogs, rememberDelivery } from "../ingest/receive-webhook";
import { verifyWebhookSignature, WEBHOOK_WINDOW_MS, webhookSecretName } from "../ingest/webhook-auth";
import { parseWebhookBody } from "../ingest/webhook-payloads";
import { decodeContentEncoding } from "../ingest/decode-body";
import { describeError, log } from "../log";
import type { AppEnv } from "./app";
import { z } from "zod";
import { documentRoute } from "./api-docs";
import { ApiError, badRequest } from "./errors";

/** Indexer deliveries can batch many blocks; still bounded. */
const MAX_WEBHOOK_BODY = 1 << 20; // the JSON body limit (body-limits.ts) applies first anyway
/** A gzip delivery may expand to this much. */
const MAX_DECODED_WEBHOOK_BODY = 8 << 20;

/**
 * `POST /webhooks/{source}?chain=evm:<id>`: logs pushed by an indexer (generic JSON-RPC logs,
 * Alchemy custom webhooks, QuickNode Streams). Authenticated by HMAC-SHA256 with the secret
 * WEBHOOK_SECRET_<SOURCE>; stale and replayed deliveries are refused; every log is checked against
 * the node's own RPC before it is enqueued. 202 with counts once enqueued.
 */
/** Every 401 names how to authenticate (RFC 9110): here, an HMAC signature per delivery. */
const WEBHOOK_CHALLENGE = { "WWW-Authenticate": 'HMAC-SHA256 realm="wavs-edge-webhooks"' };

/** Documents the path and query; the handler checks each for its own error code. */
const sourceParams = z.object({ source: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/) });
const chainQuery = z.object({ chain: z.string().regex(/^evm:\d+$/) });

const WEBHOOK_PATH = documentRoute({
  method: "post",
  path: "/webhooks/{source}",
  tag: "webhooks",
  params: sourceParams,
  query: chainQuery,
  rawBody: {
    contentType: "application/json",
    description:
      "generic JSON-RPC logs, an Alchemy custom webhook or a QuickNode Stream, signed with HMAC-SHA256 (docs/indexer-quickstart.md)",
  },
  summary: "Chain logs pushed by an indexer, verified against the node's RPC, then enqueued",
  responses: { 202: "{received, enqueued, …}" },
  errors: {
    400: "bad source, chain, JSON, gzip or delivery id",
    401: "bad or stale signature",
    404: "no secret for this source, or unknown chain",
    409: "replayed delivery",
    413: "body too large (1 MiB as sent, 8 MiB decompressed)",
    415: "a Content-Encoding other than gzip",
    422: "bad payload",
    429: "rate limited",
    502: "could not verify against the chain",
  },
});

export const webhookRoutes = new Hono<AppEnv>().post(WEBHOOK_PATH, async (c) => {
  const source = c.req.param("source") ?? "";
  if (!/^[a-z0-9][a-z0-9_-]{0,31}$/.test(source))
    throw badRequest("invalid_source", "webhook sources are 1–32 of [a-z0-9_-]");
  const secret = (c.env as unknown as Record<string, unknown>)[webhookSecretName(source)];
  if (typeof secret !== "string" || secret.length === 0) {
    throw new ApiError(404, "unknown_webhook_source", `no secret ${webhookSecretName(source)} is set for this source`);
  }
  const chainKey = c.req.query("chain");
  if (!chainKey) throw badRequest("missing_chain", "name the chain in the URL: /webhooks/{source}?chain=evm:<id>");
  const chain = await chainByKey(c.env, chainKey).catch((e: unknown) => {
    throw new ApiError(404, "unknown_chain", (e as Error).message);
  });

  const declared = Number(c.req.header("content-length") ?? 0);
  if (declared > MAX_WEBHOOK_BODY)
    throw new ApiError(413, "body_too_large", `webhook bodies are limited to ${MAX_WEBHOOK_BODY} bytes`);
  const received = new Uint8Array(await c.req.arrayBuffer());
  if (received.length > MAX_WEBHOOK_BODY)
    throw new ApiError(413, "body_too_large", `webhook bodies are limited to ${MAX_WEBHOOK_BODY} bytes`);
  // Signatures cover the decoded JSON (QuickNode signs before it gzips).
  const raw = await decodeContentEncoding(received, c.req.header("content-encoding"), MAX_DECODED_WEBHOOK_BODY);

  const auth = await verifyWebhookSignature(c.req.raw.headers, raw, secret);
  if (!auth.ok) throw new ApiError(auth.status, auth.code, auth.message, undefined, WEBHOOK_CHALLENGE);

  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(raw));
  } catch {
    throw badRequest("invalid_json", "the request body is not valid JSON");
  }
  const parsed = parseWebhookBody(auth.format, body);
  if (parsed.createdAt !== undefined && Math.abs(Date.now() - parsed.createdAt) > WEBHOOK_WINDOW_MS) {
    throw new ApiError(
      401,
      "stale_delivery",
      "the delivery's timestamp is outside the accepted window",
      undefined,
      WEBHOOK_CHALLENGE,
    );
  }
  const deliveryId = auth.deliveryId ?? parsed.deliveryId;
  if (!deliveryId) throw badRequest("missing_delivery_id", "the delivery carries no id to guard against replays");

  const db = openDb(c.env.DB);
  if (!(await rememberDelivery(db, source, deliveryId))) {
    throw new ApiError(409, "replayed_delivery", "this delivery was already received");
  }
  try {
    const outcome = await ingestWebhookLogs(db, c.env.TRIGGERS, chain, source, parsed.logs);
    if (outcome.enqueued > 0)
      log("info", "webhook events enqueued", { subsys: "ingest", chain: chain.key, source, ...outcome });
    return c.json(outcome, 202);
  } catch (e) {
    await forgetDelivery(db, source, deliveryId);
    log("warn", "webhook not processed", { subsys: "ingest", chain: chain.key, source, error: describeError(e) });
    throw new ApiError(502, "chain_unreachable", "could not verify the delivery against the chain; retry later");
  }
});
