import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { InvalidComponentError, storeComponent } from "../execute/component-store";
import type { AppEnv } from "./app";
import { ApiError, badRequest } from "./errors";
import { requireBearer } from "./require-bearer";

/** As WAVS: components up to 15 MB. */
export const MAX_COMPONENT_BYTES = 15 * 1024 * 1024;

export const componentRoutes = new Hono<AppEnv>().post(
  "/dev/components",
  requireBearer({ allowBuilderToken: true }),
  bodyLimit({
    maxSize: MAX_COMPONENT_BYTES,
    onError: () => {
      throw new ApiError(413, "component_too_large", `components are limited to ${MAX_COMPONENT_BYTES} bytes`);
    },
  }),
  async (c) => {
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    try {
      const { digest, created } = await storeComponent(c.env, bytes);
      return c.json({ digest }, created ? 201 : 200);
    } catch (e) {
      if (e instanceof InvalidComponentError) throw badRequest("invalid_component", e.message);
      throw e;
    }
  },
);
