import type { Context } from "hono";
import type { z } from "zod";
import { parseLosslessJson } from "../service/lossless-json";
import { ApiError, badRequest } from "./errors";

/**
 * Reads and validates a JSON body; `lossless` keeps integers above 2^53 exact (as bigints).
 * @throws ApiError 400 `invalid_json` when it does not parse, 422 `invalid_body` naming the field
 */
export async function readJsonBody<S extends z.ZodType>(c: Context, schema: S, opts: { lossless?: boolean } = {}): Promise<z.output<S>> {
  let body: unknown;
  try {
    body = opts.lossless ? parseLosslessJson(await c.req.text()) : await c.req.json();
  } catch {
    throw badRequest("invalid_json", "the request body is not valid JSON");
  }
  const result = schema.safeParse(body);
  if (!result.success) {
    const issues = result.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
    throw new ApiError(422, "invalid_body", `${issues[0]!.path || "body"}: ${issues[0]!.message}`, issues);
  }
  return result.data;
}
