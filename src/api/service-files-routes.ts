import { Hono, type Context } from "hono";
import { z } from "zod";
import { keyValueStub } from "../execute/host/component-host";
import type { AppEnv } from "./app";
import { documentRoute } from "./api-docs";
import { badRequest, notFound } from "./errors";
import { parseServiceIdParam } from "./keyvalue-routes";
import { requireBearer } from "./require-bearer";
import { listDirectory, resolveServicePath } from "./resolve-service-path";

const rootParams = z.object({ service_id: z.string().regex(/^[0-9a-f]{64}$/) });
const pathParams = rootParams.extend({ path: z.string().min(1) });

const answers = {
  responses: {
    200: {
      description: "a directory as JSON [{name, is_dir, size}], or a file's bytes (application/octet-stream)",
      contentType: "application/json",
    },
  },
  errors: {
    400: "malformed service id, or a path that leaves the service's directory",
    404: "no such file or directory",
  },
};

/**
 * `GET /dev/fs/{service_id}[/{path}]`, as WAVS: the directory of a service whose components have
 * `file_system: true`, listed as `[{name, is_dir, size}]`, or one file's bytes. Symlinks are
 * followed inside the directory; a path leading out of it is refused. Needs the bearer token.
 */
export const serviceFilesRoutes = new Hono<AppEnv>()
  .get(
    documentRoute({
      method: "get",
      path: "/dev/fs/{service_id}",
      tag: "services",
      auth: "bearer",
      params: rootParams,
      summary: "The root of a service's file_system directory",
      ...answers,
    }),
    requireBearer(),
    (c) => serveServicePath(c, ""),
  )
  .get(
    documentRoute({
      method: "get",
      path: "/dev/fs/{service_id}/{path}",
      restParam: "path",
      tag: "services",
      auth: "bearer",
      params: pathParams,
      summary: "A directory listing or a file in a service's file_system directory",
      ...answers,
    }),
    requireBearer(),
    (c) => serveServicePath(c, c.req.param("path") ?? ""),
  );

// Hono has already %-decoded the path parameter.
async function serveServicePath(c: Context<AppEnv>, requested: string): Promise<Response> {
  const serviceId = parseServiceIdParam(c.req.param("service_id"));
  const store = keyValueStub(c.env, serviceId);
  const entries = await store.listFiles();
  const resolved = resolveServicePath(entries, requested);
  switch (resolved.found) {
    case "outside":
      throw badRequest("path_outside_directory", resolved.reason);
    case "missing":
      throw notFound("file_not_found", `service ${serviceId} has no ${JSON.stringify(requested)} in its directory`);
    case "root":
      return c.json(listDirectory(entries, ""));
    case "entry": {
      const { entry } = resolved;
      if (entry.kind === "dir") return c.json(listDirectory(entries, entry.path));
      const bytes = await store.readFile(entry.path);
      if (!bytes) throw notFound("file_not_found", `${JSON.stringify(requested)} was removed while it was read`);
      return c.body(bytes.slice().buffer as ArrayBuffer, 200, { "content-type": "application/octet-stream" });
    }
  }
}
