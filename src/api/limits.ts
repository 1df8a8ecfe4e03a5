import type { Context, MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { aggregatorSettings, choosePeerBucket, PEER_HEADER } from "../aggregate/peers";
import { ApiError } from "./errors";

type LimiterBinding = "WEBHOOK_LIMITER" | "PEER_LIMITER";

type LimitContext = Context<{ Bindings: Env }>;

/**
 * Limits each client (by CF-Connecting-IP, and within it by `bucketOf` when given) with a Workers
 * rate limiting binding. Requests without that header never came through Cloudflare's edge (local
 * tools, tests) and are not limited.
 * @throws ApiError 429 with Retry-After when the client is over its limit
 */
export function rateLimit(
  binding: LimiterBinding,
  options: { bucketOf?: (c: LimitContext) => string; period?: number } = {},
): MiddlewareHandler<{ Bindings: Env }> {
  const period = options.period ?? 60;
  return async function rateLimit(c, next) {
    const client = c.req.header("cf-connecting-ip");
    if (client) {
      const key = options.bucketOf ? `${binding}:${client}:${options.bucketOf(c)}` : `${binding}:${client}`;
      const { success } = await c.env[binding].limit({ key });
      if (!success) {
        throw new ApiError(429, "rate_limited", "too many requests from this client; slow down", undefined, {
          "Retry-After": String(period),
        });
      }
    }
    await next();
  };
}

/**
 * The peer limit bucket of a request: the peer it names in PEER_HEADER if that is one of PEERS,
 * else "other". Peers share addresses (a devnet's 127.0.0.1, Cloudflare's egress), so by address
 * alone they would use up each other's limit.
 * @throws Error when PEERS or NODE_URL is misconfigured
 */
export function readPeerBucket(c: LimitContext): string {
  return choosePeerBucket(c.req.header(PEER_HEADER), aggregatorSettings(c.env).peers);
}

/** The CORS_ORIGINS variable as a list ("a, b" or a JSON list); empty when unset. */
export function parseCorsOrigins(raw: string | undefined): string[] {
  const text = raw?.trim() ?? "";
  if (!text) return [];
  const list: unknown = text.startsWith("[") ? JSON.parse(text) : text.split(",");
  if (!Array.isArray(list)) throw new Error("CORS_ORIGINS must be a comma-separated or JSON list of origins");
  return list.map((o) => String(o).trim().replace(/\/$/, "")).filter(Boolean);
}

/**
 * CORS for the origins in CORS_ORIGINS only; other origins get no CORS headers at all. The list
 * and its middleware are built once per value of the variable, not per request.
 */
export function corsAllowList(): MiddlewareHandler<{ Bindings: Env }> {
  let built: { raw: string | undefined; handler: MiddlewareHandler | null } | undefined;
  return async function corsAllowList(c, next) {
    const raw = c.env.CORS_ORIGINS;
    if (!built || built.raw !== raw) built = { raw, handler: buildCors(parseCorsOrigins(raw)) };
    return built.handler ? built.handler(c, next) : next();
  };
}

function buildCors(allowed: string[]): MiddlewareHandler | null {
  if (allowed.length === 0) return null;
  const origins = new Set(allowed);
  return cors({
    origin: (origin) => (origins.has(origin) ? origin : null),
    allowHeaders: ["authorization", "content-type"],
    allowMethods: ["GET", "POST", "DELETE", "OPTIONS"],
    maxAge: 600,
  });
}
