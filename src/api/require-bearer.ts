import type { MiddlewareHandler } from "hono";
import { ApiError } from "./errors";

/**
 * Guards mutating routes with WAVS_BEARER_TOKEN (constant-time compare). A node without the secret
 * refuses them rather than running open.
 */
export function requireBearer(): MiddlewareHandler<{ Bindings: Env }> {
  return async function requireBearer(c, next) {
    const expected = c.env.WAVS_BEARER_TOKEN;
    if (!expected) {
      throw new ApiError(503, "auth_not_configured", "WAVS_BEARER_TOKEN is not set on this node");
    }
    const header = c.req.header("authorization") ?? "";
    const given = header.startsWith("Bearer ") ? header.slice(7) : "";
    if (!(await constantTimeEqual(given, expected))) {
      throw new ApiError(401, "unauthorized", "a valid bearer token is required", undefined, {
        "WWW-Authenticate": 'Bearer realm="wavs-edge"',
      });
    }
    await next();
  };
}

/** Compares SHA-256 digests so neither length nor content leaks through timing. */
async function constantTimeEqual(a: string, b: string): Promise<boolean> {
  const enc = new TextEncoder();
  const [da, db] = await Promise.all([
    crypto.subtle.digest("SHA-256", enc.encode(a)),
    crypto.subtle.digest("SHA-256", enc.encode(b)),
  ]);
  return crypto.subtle.timingSafeEqual(da, db);
}
