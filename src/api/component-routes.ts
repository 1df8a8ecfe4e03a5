import { Hono, type Context } from "hono";
import { z } from "zod";
import { bodyLimit } from "hono/body-limit";
import {
  componentKey,
  getStoredComponent,
  listComponents,
  MAX_COMPONENT_BYTES,
  storeComponent,
  type StoreComponentResult,
} from "../execute/component-store";
import { prepareInBackground } from "../execute/load-component";
import type { AppEnv } from "./app";
import { documentRoute } from "./api-docs";
import { ApiError, badRequest, notFound } from "./errors";
import { requireBearer } from "./require-bearer";

const DIGEST = /^[0-9a-f]{64}$/;
const MAX_PAGE = 1000;

function limitComponentBody() {
  return bodyLimit({
    maxSize: MAX_COMPONENT_BYTES,
    onError: () => {
      throw new ApiError(413, "component_too_large", `components are limited to ${MAX_COMPONENT_BYTES} bytes`);
    },
  });
}

/**
 * Stores the raw wasm body, and transpiles it in the background (after the answer), so that the
 * component's first run only loads its artifacts.
 * @throws InvalidComponentError (400 invalid_component, the reason in details)
 */
async function storeBody(c: Context<AppEnv>): Promise<StoreComponentResult> {
  const bytes = new Uint8Array(await c.req.arrayBuffer());
  const stored = await storeComponent(c.env, bytes);
  // not the uploader's problem when it fails: the first run transpiles again and reports it
  prepareInBackground(c.env, [stored.digest], "upload");
  return stored;
}

/** @throws ApiError 400 invalid_digest */
function digestParam(c: Context<AppEnv>): string {
  const digest = c.req.param("digest") ?? "";
  if (!DIGEST.test(digest))
    throw badRequest("invalid_digest", "a component digest is 64 lowercase hex characters (sha256)");
  return digest;
}

const wasmBody = { contentType: "application/wasm", description: "the component's wasm bytes (a WASI 0.2 component)" };
const uploadErrors = { 400: "not a WASI 0.2 component (details.reason)", 413: `over ${MAX_COMPONENT_BYTES} bytes` };
/** Documents the query; the handler checks `limit` itself for one error message. */
const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE).optional(),
  cursor: z.string().optional(),
});
const digestParams = z.object({ digest: z.string().regex(DIGEST) });

export const componentRoutes = new Hono<AppEnv>()
  // As WAVS: raw wasm in, {"digest"} out.
  .post(
    documentRoute({
      method: "post",
      path: "/dev/components",
      tag: "components",
      auth: "bearer-or-builder",
      rawBody: wasmBody,
      summary: "Upload a component (as WAVS): {digest}",
      responses: { 200: "already stored: {digest}", 201: "stored: {digest}" },
      errors: uploadErrors,
    }),
    requireBearer({ allowBuilderToken: true }),
    limitComponentBody(),
    async (c) => {
      const { digest, created } = await storeBody(c);
      return c.json({ digest }, created ? 201 : 200);
    },
  )
  .post(
    documentRoute({
      method: "post",
      path: "/components",
      tag: "components",
      auth: "bearer-or-builder",
      rawBody: wasmBody,
      summary: "Upload a component: {digest, size, world, imports, exports}",
      responses: { 200: "already stored", 201: "stored" },
      errors: uploadErrors,
    }),
    requireBearer({ allowBuilderToken: true }),
    limitComponentBody(),
    async (c) => {
      const { digest, size, world, imports, exports, created } = await storeBody(c);
      return c.json({ digest, size, world, imports, exports }, created ? 201 : 200);
    },
  )
  .get(
    documentRoute({
      method: "get",
      path: "/components",
      tag: "components",
      query: listQuery,
      summary: "Stored components, a page at a time",
      responses: { 200: "{components, cursor?}" },
      errors: { 400: "bad limit" },
    }),
    async (c) => {
      const limitText = c.req.query("limit");
      const limit = limitText === undefined ? 100 : Number(limitText);
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
        throw badRequest("invalid_query", `limit must be an integer from 1 to ${MAX_PAGE}`);
      }
      return c.json(await listComponents(c.env, { limit, cursor: c.req.query("cursor") || undefined }));
    },
  )
  .get(
    documentRoute({
      method: "get",
      path: "/components/{digest}",
      tag: "components",
      params: digestParams,
      summary: "One stored component's description (HEAD: whether it is stored, size in x-component-size)",
      responses: { 200: "the component's digest, size, world, imports and exports" },
      errors: { 400: "malformed digest", 404: "not stored" },
    }),
    async (c) => {
      const digest = digestParam(c);
      // Hono answers HEAD with the GET route: check existence without reading; size in a header.
      if (c.req.method === "HEAD") {
        const head = await c.env.COMPONENTS.head(componentKey(digest));
        return c.body(null, head ? 200 : 404, head ? { "x-component-size": String(head.size) } : {});
      }
      const stored = await getStoredComponent(c.env, digest);
      if (!stored) throw notFound("component_not_found", `no component is stored under ${digest}`);
      return c.json(stored);
    },
  );
