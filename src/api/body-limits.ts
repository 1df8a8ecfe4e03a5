import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { ApiError } from "./errors";

/** Request bodies other than component uploads stay small. */
export const MAX_JSON_BODY = 1 << 20;

/** Routes that take a larger body and cap it themselves (component uploads, 15 MB). */
const OWN_LIMIT_ROUTES = new Set(["POST /dev/components", "POST /components"]);

/**
 * Caps every request body at MAX_JSON_BODY whatever its content-type (or none), reading at most
 * that much (plus one chunk) of a body sent without a length; component uploads set their own
 * limit on their route.
 * @throws ApiError 413 `body_too_large`
 */
export function limitBodies(): MiddlewareHandler<{ Bindings: Env }> {
  const limit = bodyLimit({
    maxSize: MAX_JSON_BODY,
    onError: () => {
      throw new ApiError(
        413,
        "body_too_large",
        `request bodies are limited to ${MAX_JSON_BODY} bytes (components: POST /dev/components)`,
      );
    },
  });
  return async function limitBodies(c, next) {
    if (OWN_LIMIT_ROUTES.has(`${c.req.method} ${new URL(c.req.url).pathname}`)) return next();
    return limit(c, next);
  };
}
