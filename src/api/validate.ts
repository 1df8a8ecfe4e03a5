import type { Context } from "hono";
import type { z } from "zod";
import { findForbiddenKey, ForbiddenKeyError, parseLosslessJson } from "../service/lossless-json";
import { ApiError, badRequest } from "./errors";

/**
 * Reads and validates a JSON body; `lossless` keeps integers above 2^53 exact (as bigints).
 * @throws ApiError 400 `invalid_json` when it does not parse, 400 `forbidden_key` for a `__proto__`,
 *   `constructor` or `prototype` key, 422 `invalid_body` naming the field
 */
export async function readJsonBody<S extends z.ZodType>(
  c: Context,
  schema: S,
  opts: { lossless?: boolean } = {},
): Promise<z.output<S>> {
  let body: unknown;
  try {
    body = opts.lossless ? parseLosslessJson(await c.req.text()) : await c.req.json();
  } catch (e) {
    if (e instanceof ForbiddenKeyError) throw forbiddenKey(e);
    throw badRequest("invalid_json", "the request body is not valid JSON");
  }
  const forbidden = findForbiddenKey(body);
  if (forbidden) throw forbiddenKey(forbidden);
  const result = schema.safeParse(body);
  if (!result.success) {
    const issues = result.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
    throw new ApiError(422, "invalid_body", `${issues[0]!.path || "body"}: ${issues[0]!.message}`, issues);
  }
  return result.data;
}

/**
 * Reads and validates the query string.
 * @throws ApiError 422 `invalid_query` naming the first bad parameter
 */
export function readQuery<S extends z.ZodType>(c: Context, schema: S): z.output<S> {
  const result = schema.safeParse(c.req.query());
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new ApiError(422, "invalid_query", `${issue.path.join(".") || "query"}: ${issue.message}`);
  }
  return result.data;
}

/** The 400 for a JSON key that would reach a prototype. */
export function forbiddenKey(e: ForbiddenKeyError): ApiError {
  return badRequest("forbidden_key", e.message, { key: e.key, path: e.path });
}
