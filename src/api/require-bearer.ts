import type { MiddlewareHandler } from "hono";
import { constantTimeEqual } from "../util/constant-time-equal";
import { ApiError } from "./errors";

/** Secrets the node reads when set; not declared in wrangler.toml because they are optional. */
export type OptionalSecrets = { WAVS_BUILDER_TOKEN?: string };

export type RequireBearerOptions = {
  /** Also accept WAVS_BUILDER_TOKEN, when the operator set one (component upload only). */
  allowBuilderToken?: boolean;
};

/**
 * Guards mutating routes with WAVS_BEARER_TOKEN (constant-time compare). A node without the secret
 * refuses them rather than running open.
 * @throws ApiError 401 with WWW-Authenticate, 503 when the node has no token configured
 */
export function requireBearer(options: RequireBearerOptions = {}): MiddlewareHandler<{ Bindings: Env }> {
  return async function requireBearer(c, next) {
    const expected = c.env.WAVS_BEARER_TOKEN;
    if (!expected) {
      throw new ApiError(503, "auth_not_configured", "WAVS_BEARER_TOKEN is not set on this node");
    }
    const header = c.req.header("authorization") ?? "";
    const given = header.startsWith("Bearer ") ? header.slice(7) : "";
    const builder = options.allowBuilderToken ? (c.env as Env & OptionalSecrets).WAVS_BUILDER_TOKEN : undefined;
    // Compare against both whatever happens, so timing does not tell which token matched.
    const [operatorOk, builderOk] = await Promise.all([
      constantTimeEqual(given, expected),
      builder ? constantTimeEqual(given, builder) : Promise.resolve(false),
    ]);
    if (!operatorOk && !builderOk) {
      throw new ApiError(401, "unauthorized", "a valid bearer token is required", undefined, {
        "WWW-Authenticate": 'Bearer realm="wavs-edge"',
      });
    }
    await next();
  };
}
