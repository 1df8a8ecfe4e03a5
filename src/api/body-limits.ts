import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { ApiError } from "./errors";

/** JSON bodies other than component uploads stay small. */
export const MAX_JSON_BODY = 1 << 20;

/**
 * Caps JSON bodies at MAX_JSON_BODY; raw uploads set their own limit on their route.
 * @throws ApiError 413
 */
export function limitJsonBodies(): MiddlewareHandler<{ Bindings: Env }> {
  return async function limitJsonBodies(c, next) {
    if (!c.req.header("content-type")?.includes("application/json")) return next();
    return bodyLimit({
      maxSize: MAX_JSON_BODY,
      onError: () => {
        throw new ApiError(413, "body_too_large", `JSON bodies are limited to ${MAX_JSON_BODY} bytes`);
      },
    })(c, next);
  };
}
