import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { ApiError } from "./errors";

type LimiterBinding = "WEBHOOK_LIMITER" | "PEER_LIMITER";

/**
 * Limits each client (by CF-Connecting-IP) with a Workers rate limiting binding. Requests without
 * that header never came through Cloudflare's edge (local tools, tests) and are not limited.
 * @throws ApiError 429 with Retry-After when the client is over its limit
 */
export function rateLimit(binding: LimiterBinding, period = 60): MiddlewareHandler<{ Bindings: Env }> {
  return async function rateLimit(c, next) {
    const client = c.req.header("cf-connecting-ip");
    if (client) {
      const { success } = await c.env[binding].limit({ key: `${binding}:${client}` });
      if (!success) {
        throw new ApiError(429, "rate_limited", "too many requests from this client; slow down", undefined, {
          "Retry-After": String(period),
        });
      }
    }
    await next();
  };
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
