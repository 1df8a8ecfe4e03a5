import { createRoute, OpenAPIHono, type RouteConfig } from "@hono/zod-openapi";
import { z } from "zod";

/**
 * The registry the OpenAPI document is generated from. Routes declare themselves here with the
 * same zod schemas their handlers validate with (see `documentRoute`), so the document cannot
 * drift from what the node accepts.
 */
const registry = new OpenAPIHono();
registry.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer" });

/** Every error answer: `{error: {code, message, details?}}` (errors.ts and app.onError). */
const errorBody = {
  content: {
    "application/json": {
      schema: z.object({ error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }) }),
    },
  },
};

export type DocumentedRoute = {
  method: "get" | "post" | "delete";
  /** OpenAPI style, `{param}`. */
  path: string;
  /** A path parameter that takes the rest of the path, slashes included (e.g. a file path). */
  restParam?: string;
  summary: string;
  tag: string;
  /** The schema the handler validates its JSON body with. */
  body?: z.ZodType;
  /** A body documented by a schema served elsewhere (e.g. the service JSON Schema). */
  bodyRef?: string;
  /** A body that is not JSON (e.g. wasm bytes), by content type. */
  rawBody?: { contentType: string; description: string };
  /** Path parameters with the schema the handler checks them against. */
  params?: z.ZodObject;
  query?: z.ZodObject;
  auth?: "bearer" | "bearer-or-builder";
  /** Success status → description (and content type when not JSON). */
  responses: Record<number, string | { description: string; contentType: string }>;
  /** Error statuses this route answers, with what they mean. */
  errors?: Record<number, string>;
};

/**
 * Declares a route in the OpenAPI document and returns its Hono path (`:param`), so the route
 * is mounted from the same definition it is documented from.
 */
export function documentRoute(def: DocumentedRoute): string {
  const responses: RouteConfig["responses"] = {};
  for (const [status, r] of Object.entries(def.responses)) {
    responses[status] =
      typeof r === "string"
        ? { description: r }
        : { description: r.description, content: { [r.contentType]: { schema: { type: "string" } } } };
  }
  const unauthorized =
    def.auth === "bearer-or-builder"
      ? "missing or wrong bearer token: the operator's or the builder's (WWW-Authenticate)"
      : "missing or wrong bearer token (WWW-Authenticate)";
  const errors = { ...def.errors, ...(def.auth ? { 401: unauthorized } : {}) };
  for (const [status, description] of Object.entries(errors)) responses[status] = { description, ...errorBody };
  const route = createRoute({
    method: def.method,
    path: def.path,
    summary: def.summary,
    tags: [def.tag],
    ...(def.auth ? { security: [{ bearer: [] }] } : {}),
    request: {
      ...(def.params ? { params: def.params } : {}),
      ...(def.query ? { query: def.query } : {}),
      ...(def.body
        ? { body: { required: true, content: { "application/json": { schema: def.body } } } }
        : def.bodyRef
          ? { body: { required: true, content: { "application/json": { schema: { $ref: def.bodyRef } } } } }
          : def.rawBody
            ? {
                body: {
                  required: true,
                  description: def.rawBody.description,
                  content: { [def.rawBody.contentType]: { schema: { type: "string", format: "binary" } } },
                },
              }
            : {}),
    },
    responses,
  } as RouteConfig);
  registry.openAPIRegistry.registerPath(route);
  return def.path.replace(/\{(\w+)\}/g, (_, name: string) => (name === def.restParam ? `:${name}{.+}` : `:${name}`));
}

/** The OpenAPI 3.1 document of every documented route. */
export function generateOpenApiDocument(serverUrl?: string) {
  return registry.getOpenAPI31Document({
    openapi: "3.1.0",
    info: {
      title: "wavs-edge node API",
      version: "0.1.0",
      description: "A WAVS operator node on Cloudflare Workers. Errors are JSON {error:{code,message,details?}}.",
    },
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
  });
}
