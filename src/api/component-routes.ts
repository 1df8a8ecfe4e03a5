import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import {
  InvalidComponentError,
  componentKey,
  getStoredComponent,
  listComponents,
  storeComponent,
  type StoreComponentResult,
} from "../execute/component-store";
import type { AppEnv } from "./app";
import { ApiError, badRequest, notFound } from "./errors";
import { requireBearer } from "./require-bearer";

/** As WAVS: components up to 15 MB. */
export const MAX_COMPONENT_BYTES = 15 * 1024 * 1024;

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

/** Stores the raw wasm body. @throws ApiError 400 invalid_component with the reason in details */
async function storeBody(c: Context<AppEnv>): Promise<StoreComponentResult> {
  const bytes = new Uint8Array(await c.req.arrayBuffer());
  try {
    return await storeComponent(c.env, bytes);
  } catch (e) {
    if (e instanceof InvalidComponentError) throw badRequest("invalid_component", e.message, { reason: e.reason });
    throw e;
  }
}

/** @throws ApiError 400 invalid_digest */
function digestParam(c: Context<AppEnv>): string {
  const digest = c.req.param("digest") ?? "";
  if (!DIGEST.test(digest)) throw badRequest("invalid_digest", "a component digest is 64 lowercase hex characters (sha256)");
  return digest;
}

export const componentRoutes = new Hono<AppEnv>()
  // As WAVS: raw wasm in, {"digest"} out.
  .post("/dev/components", requireBearer({ allowBuilderToken: true }), limitComponentBody(), async (c) => {
    const { digest, created } = await storeBody(c);
    return c.json({ digest }, created ? 201 : 200);
  })
  .post("/components", requireBearer({ allowBuilderToken: true }), limitComponentBody(), async (c) => {
    const { digest, size, world, imports, exports, created } = await storeBody(c);
    return c.json({ digest, size, world, imports, exports }, created ? 201 : 200);
  })
  .get("/components", async (c) => {
    const limitText = c.req.query("limit");
    const limit = limitText === undefined ? 100 : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
      throw badRequest("invalid_query", `limit must be an integer from 1 to ${MAX_PAGE}`);
    }
    return c.json(await listComponents(c.env, { limit, cursor: c.req.query("cursor") || undefined }));
  })
  .get("/components/:digest", async (c) => {
    const digest = digestParam(c);
    // Hono answers HEAD with the GET route: check existence without reading; size in a header.
    if (c.req.method === "HEAD") {
      const head = await c.env.COMPONENTS.head(componentKey(digest));
      return c.body(null, head ? 200 : 404, head ? { "x-component-size": String(head.size) } : {});
    }
    const stored = await getStoredComponent(c.env, digest);
    if (!stored) throw notFound("component_not_found", `no component is stored under ${digest}`);
    return c.json(stored);
  });
