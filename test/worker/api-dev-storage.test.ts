import { SELF, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { listDirectory, resolveServicePath } from "../../src/api/resolve-service-path";
import { storeComponent } from "../../src/execute/component-store";
import { keyValueStub } from "../../src/execute/host/component-host";
import type { FileInfo } from "../../src/execute/keyvalue/service-key-value";
import { KEY_PAGE_SIZE } from "../../src/execute/keyvalue/keyvalue-limits";
import { runOperatorComponent } from "../../src/execute/run-component";
import { actionFor, builtComponent, raw, serviceFor } from "./component-fixtures";

const auth = { authorization: "Bearer test-token" };
const get = (path: string, headers: Record<string, string> = auth) =>
  SELF.fetch(`http://node${path}`, { headers, redirect: "manual" });
const bytes = (text: string) => new TextEncoder().encode(text);
const bodyText = async (res: Response) => new TextDecoder().decode(await res.arrayBuffer());

describe("GET /dev/kv/{service_id}: the service's stored values and counters", () => {
  it("lists values by size and counters by value, in (bucket, key) order, one bucket on request", async () => {
    const serviceId = "e1".repeat(32);
    const kv = keyValueStub(env, serviceId);
    await kv.set("b2", "z", bytes("zz"));
    await kv.set("b1", "a", bytes("hello"));
    await kv.increment("b1", "hits", 41n);
    await kv.increment("b1", "hits", 1n);
    const all = await (await get(`/dev/kv/${serviceId}`)).json();
    expect(all).toEqual({
      entries: [
        { bucket: "b1", key: "a", kind: "value", size: 5 },
        { bucket: "b1", key: "hits", kind: "counter", value: "42" },
        { bucket: "b2", key: "z", kind: "value", size: 2 },
      ],
      next_cursor: null,
    });
    const one = await (await get(`/dev/kv/${serviceId}?bucket=b2`)).json();
    expect(one).toEqual({ entries: [{ bucket: "b2", key: "z", kind: "value", size: 2 }], next_cursor: null });
  });

  it("pages through more than one page with next_cursor, every entry once", async () => {
    const serviceId = "e2".repeat(32);
    const keys = Array.from({ length: KEY_PAGE_SIZE + 5 }, (_, i) => `k${String(i).padStart(5, "0")}`);
    const kv = keyValueStub(env, serviceId);
    await kv.setMany(
      "bucket",
      keys.slice(0, KEY_PAGE_SIZE).map((k) => [k, bytes("v")]),
    );
    await kv.setMany(
      "bucket",
      keys.slice(KEY_PAGE_SIZE).map((k) => [k, bytes("v")]),
    );
    const first = (await (await get(`/dev/kv/${serviceId}`)).json()) as {
      entries: { key: string }[];
      next_cursor: string | null;
    };
    expect(first.entries).toHaveLength(KEY_PAGE_SIZE);
    expect(first.next_cursor).toMatch(/^[0-9a-f]+$/);
    const second = (await (await get(`/dev/kv/${serviceId}?cursor=${first.next_cursor}`)).json()) as typeof first;
    expect(second.next_cursor).toBeNull();
    expect([...first.entries, ...second.entries].map((e) => e.key)).toEqual(keys);
  });

  it("refuses a malformed service id or cursor (400) and a missing token (401)", async () => {
    const bad = await get("/dev/kv/nothex");
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: "invalid_service_id" } });
    const cursor = await get(`/dev/kv/${"e1".repeat(32)}?cursor=zz`);
    expect(cursor.status).toBe(400);
    expect(await cursor.json()).toMatchObject({ error: { code: "invalid_cursor" } });
    expect((await get(`/dev/kv/${"e1".repeat(32)}`, {})).status).toBe(401);
  });
});

describe("GET /dev/fs/{service_id}[/{path}]: the service's file_system directory, as WAVS", () => {
  it("shows what a component wrote with file_system: true", async () => {
    const serviceId = "f1".repeat(32);
    const { digest } = await storeComponent(env, builtComponent("wasi-probe"));
    const service = serviceFor(digest);
    service.workflows.default!.component.permissions.file_system = true;
    await runOperatorComponent(env, {
      service,
      serviceId,
      workflowId: "default",
      action: actionFor(service, raw("fs-write:from the component")),
      chains: [],
    });
    expect(await (await get(`/dev/fs/${serviceId}`)).json()).toEqual([{ name: "notes.txt", is_dir: false, size: 18 }]);
    const file = await get(`/dev/fs/${serviceId}/notes.txt`);
    expect(file.headers.get("content-type")).toBe("application/octet-stream");
    expect(await bodyText(file)).toBe("from the component");
  });

  it("lists directories, serves files, follows symlinks inside and refuses those leading out", async () => {
    const serviceId = "f2".repeat(32);
    await keyValueStub(env, serviceId).writeFiles([
      { path: "data", kind: "dir" },
      { path: "data/a.txt", kind: "file", data: bytes("A") },
      { path: "link", kind: "symlink", target: "data" },
      { path: "up", kind: "symlink", target: "../secret" },
      { path: "abs", kind: "symlink", target: "/etc/passwd" },
    ]);
    expect(await (await get(`/dev/fs/${serviceId}/data`)).json()).toEqual([{ name: "a.txt", is_dir: false, size: 1 }]);
    expect(await bodyText(await get(`/dev/fs/${serviceId}/link/a.txt`))).toBe("A");
    for (const path of ["up", "abs"]) {
      const res = await get(`/dev/fs/${serviceId}/${path}`);
      expect(res.status, path).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: "path_outside_directory" } });
    }
    const missing = await get(`/dev/fs/${serviceId}/data/b.txt`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: "file_not_found" } });
    expect((await get(`/dev/fs/${serviceId}/data`, {})).status).toBe(401);
  });
});

describe("resolveServicePath", () => {
  const entries: FileInfo[] = [
    { path: "d", kind: "dir", size: null, target: null },
    { path: "d/f", kind: "file", size: 3, target: null },
    { path: "loop", kind: "symlink", size: null, target: "loop" },
    { path: "d/back", kind: "symlink", size: null, target: "../d/f" },
  ];

  it("applies . and .., follows links relative to their directory, and stops loops", () => {
    expect(resolveServicePath(entries, "")).toEqual({ found: "root" });
    expect(resolveServicePath(entries, "./d/../d/f")).toMatchObject({ found: "entry", entry: { path: "d/f" } });
    expect(resolveServicePath(entries, "d/back")).toMatchObject({ found: "entry", entry: { path: "d/f" } });
    expect(resolveServicePath(entries, "d/../../x")).toMatchObject({ found: "outside" });
    expect(resolveServicePath(entries, "loop")).toEqual({ found: "missing" });
    expect(resolveServicePath(entries, "d/f/g")).toEqual({ found: "missing" });
  });

  it("lists only the direct children of a directory", () => {
    expect(listDirectory(entries, "").map((e) => e.name)).toEqual(["d", "loop"]);
    expect(listDirectory(entries, "d")).toEqual([
      { name: "f", is_dir: false, size: 3 },
      { name: "back", is_dir: false, size: null },
    ]);
  });
});

describe("WAVS's other paths", () => {
  it("GET /dev/config is GET /config", async () => {
    const [config, devConfig] = await Promise.all([get("/config"), get("/dev/config")]);
    expect(devConfig.status).toBe(200);
    expect(await devConfig.json()).toEqual(await config.json());
  });

  it("GET /swagger-ui redirects to the API page", async () => {
    const res = await get("/swagger-ui");
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/api-docs");
  });
});
