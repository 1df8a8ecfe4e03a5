import { Hono } from "hono";
import { hexToString, stringToHex } from "viem";
import { z } from "zod";
import { keyValueStub } from "../execute/host/component-host";
import { MAX_KEY_LENGTH } from "../execute/keyvalue/keyvalue-limits";
import type { EntryCursor } from "../execute/keyvalue/service-key-value";
import type { AppEnv } from "./app";
import { documentRoute } from "./api-docs";
import { badRequest, notFound } from "./errors";
import { requireBearer } from "./require-bearer";

const kvPathParams = z.object({
  service_id: z.string().regex(/^[0-9a-f]{64}$/),
  bucket: z.string().min(1).max(MAX_KEY_LENGTH),
  key: z.string().min(1).max(MAX_KEY_LENGTH),
});

const serviceIdParam = z.object({ service_id: z.string().regex(/^[0-9a-f]{64}$/) });

const listQuery = z.object({
  bucket: z.string().min(1).max(MAX_KEY_LENGTH).optional(),
  cursor: z
    .string()
    .max(4 * MAX_KEY_LENGTH)
    .optional(),
});

/** The service id of a `/dev/kv/{service_id}` or `/dev/fs/{service_id}` path, lower-cased.
 * @throws ApiError 400 when it is not 64 hex digits */
export function parseServiceIdParam(raw: string | undefined): string {
  const parsed = serviceIdParam.safeParse({ service_id: (raw ?? "").toLowerCase() });
  if (!parsed.success)
    throw badRequest("invalid_service_id", "the service id must be 64 hex digits", parsed.error.issues);
  return parsed.data.service_id;
}

/** `GET /dev/kv/{service_id}`: the service's values (by size) and counters, a page at a time. WAVS lists
 * its store here too; the page shape is ours. */
const listKeyValueRoute = documentRoute({
  method: "get",
  path: "/dev/kv/{service_id}",
  tag: "services",
  auth: "bearer",
  params: serviceIdParam,
  query: listQuery,
  summary: "Every value (by size) and counter a service's components stored with wasi:keyvalue, 1000 per page",
  responses: {
    200: "{entries: [{bucket, key, kind: value, size} | {bucket, key, kind: counter, value}], next_cursor}",
  },
  errors: { 400: "malformed service id, bucket or cursor" },
});

/** `GET /dev/kv/{service_id}` (the listing) and `GET /dev/kv/{service_id}/{bucket}/{key}`: a
 * component's stored value, raw, as WAVS answers it (200 with the bytes, 404 when absent; atomic
 * counters are not values, as in WAVS). Unlike WAVS both need the bearer token: the data belongs to
 * the service's components. */
export const keyValueRoutes = new Hono<AppEnv>()
  .get(listKeyValueRoute, requireBearer(), async (c) => {
    const serviceId = parseServiceIdParam(c.req.param("service_id"));
    const query = listQuery.safeParse(c.req.query());
    if (!query.success)
      throw badRequest("invalid_query", "bucket and cursor must be short strings", query.error.issues);
    const after = query.data.cursor === undefined ? null : decodeCursor(query.data.cursor);
    const page = await keyValueStub(c.env, serviceId).listEntries(query.data.bucket ?? null, after);
    return c.json({ entries: page.entries, next_cursor: page.next && encodeCursor(page.next) });
  })
  .get(
    documentRoute({
      method: "get",
      path: "/dev/kv/{service_id}/{bucket}/{key}",
      tag: "services",
      auth: "bearer",
      params: kvPathParams,
      summary: "A value a service's component stored with wasi:keyvalue, as raw bytes",
      responses: { 200: { description: "the stored bytes", contentType: "application/octet-stream" } },
      errors: { 400: "malformed service id, bucket or key", 404: "no such key" },
    }),
    requireBearer(),
    async (c) => {
      const parsed = kvPathParams.safeParse({
        service_id: (c.req.param("service_id") ?? "").toLowerCase(),
        bucket: c.req.param("bucket"),
        key: c.req.param("key"),
      });
      if (!parsed.success) {
        throw badRequest(
          "invalid_kv_path",
          "expected /dev/kv/{service_id: 64 hex digits}/{bucket}/{key}",
          parsed.error.issues,
        );
      }
      const { service_id, bucket, key } = parsed.data;
      const value = await keyValueStub(c.env, service_id).get(bucket, key);
      if (value === null)
        throw notFound(
          "key_not_found",
          `service ${service_id} has no key ${JSON.stringify(key)} in bucket ${JSON.stringify(bucket)}`,
        );
      return c.body(value.slice().buffer as ArrayBuffer, 200, { "content-type": "application/octet-stream" });
    },
  );

const cursorSchema = z.object({ bucket: z.string(), key: z.string(), kind: z.enum(["value", "counter"]) });

// Opaque to clients: the (bucket, key, kind) the page ended at, as hex of its JSON.
function encodeCursor(cursor: EntryCursor): string {
  return stringToHex(JSON.stringify(cursor)).slice(2);
}

/** @throws ApiError 400 when the cursor is not one this route handed out */
function decodeCursor(raw: string): EntryCursor {
  try {
    const value: unknown = JSON.parse(hexToString(`0x${raw}`));
    const cursor = cursorSchema.safeParse(value);
    if (cursor.success) return cursor.data;
  } catch {}
  throw badRequest("invalid_cursor", "cursor must be the next_cursor of a previous page");
}
