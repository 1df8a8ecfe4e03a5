import { Hono } from "hono";
import { z } from "zod";
import { keyValueStub } from "../execute/host/component-host";
import { MAX_KEY_LENGTH } from "../execute/keyvalue/keyvalue-limits";
import type { AppEnv } from "./app";
import { documentRoute } from "./api-docs";
import { badRequest, notFound } from "./errors";
import { requireBearer } from "./require-bearer";

const kvPathParams = z.object({
  service_id: z.string().regex(/^[0-9a-f]{64}$/),
  bucket: z.string().min(1).max(MAX_KEY_LENGTH),
  key: z.string().min(1).max(MAX_KEY_LENGTH),
});

/** `GET /dev/kv/{service_id}/{bucket}/{key}`: a component's stored value, raw, as WAVS answers it
 * (200 with the bytes, 404 when absent; atomic counters are not values, as in WAVS). Unlike WAVS it
 * needs the bearer token: the data belongs to the service's components. */
export const keyValueRoutes = new Hono<AppEnv>().get(
  documentRoute({
    method: "get", path: "/dev/kv/{service_id}/{bucket}/{key}", tag: "services", auth: "bearer", params: kvPathParams,
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
      throw badRequest("invalid_kv_path", "expected /dev/kv/{service_id: 64 hex digits}/{bucket}/{key}", parsed.error.issues);
    }
    const { service_id, bucket, key } = parsed.data;
    const value = await keyValueStub(c.env, service_id).get(bucket, key);
    if (value === null) throw notFound("key_not_found", `service ${service_id} has no key ${JSON.stringify(key)} in bucket ${JSON.stringify(bucket)}`);
    return c.body(value.slice().buffer as ArrayBuffer, 200, { "content-type": "application/octet-stream" });
  },
);
