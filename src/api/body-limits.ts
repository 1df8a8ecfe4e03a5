import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { MAX_SUBMISSION_BODY } from "../aggregate/submission";
import { ApiError } from "./errors";

/** Request bodies other than component uploads and peer submissions stay small. */
export const MAX_JSON_BODY = 1 << 20;

/** A peer's submissions (submission.ts says why this size). */
export { MAX_SUBMISSION_BODY };

/** Routes that take a larger body and cap it themselves (component uploads, 15 MB). */
const OWN_LIMIT_ROUTES = new Set(["POST /dev/components", "POST /components"]);

/** Routes with a larger limit than MAX_JSON_BODY, applied here. */
const LARGER_LIMITS: Record<string, number> = {
  "POST /aggregator/submissions": MAX_SUBMISSION_BODY,
  "POST /aggregator/submissions/batch": MAX_SUBMISSION_BODY,
};

/**
 * Caps every request body at MAX_JSON_BODY (or the route's LARGER_LIMITS) whatever its content-type
 * (or none), reading at most that much (plus one chunk) of a body sent without a length; component
 * uploads set their own limit on their route.
 * @throws ApiError 413 `body_too_large`
 */
export function limitBodies(): MiddlewareHandler<{ Bindings: Env }> {
  const limiter = (maxSize: number, hint: string) =>
    bodyLimit({
      maxSize,
      onError: () => {
        throw new ApiError(413, "body_too_large", `request bodies are limited to ${maxSize} bytes${hint}`);
      },
    });
  const general = limiter(MAX_JSON_BODY, " (components: POST /dev/components)");
  const larger = Object.fromEntries(Object.entries(LARGER_LIMITS).map(([route, max]) => [route, limiter(max, "")]));
  return async function limitBodies(c, next) {
    const route = `${c.req.method} ${new URL(c.req.url).pathname}`;
    if (OWN_LIMIT_ROUTES.has(route)) return next();
    return (larger[route] ?? general)(c, next);
  };
}
