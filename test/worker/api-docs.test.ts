import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/api/app";

type Doc = {
  openapi: string;
  paths: Record<
    string,
    Record<
      string,
      {
        requestBody?: { content: Record<string, { schema: any }> };
        security?: unknown[];
        responses: Record<string, unknown>;
      }
    >
  >;
};

async function doc(): Promise<Doc> {
  const res = await SELF.fetch("http://node/api-docs/openapi.json");
  expect(res.status).toBe(200);
  return (await res.json()) as Doc;
}

describe("GET /api-docs/openapi.json", () => {
  it("documents the service, config and metrics routes from their definitions and validators", async () => {
    const d = await doc();
    expect(d.openapi).toBe("3.1.0");
    for (const [path, method] of [
      ["/services", "post"],
      ["/services", "delete"],
      ["/services", "get"],
      ["/services/{chain}/{address}", "get"],
      ["/services/signer", "post"],
      ["/dev/services", "post"],
      ["/dev/services/{hash}", "get"],
      ["/dev/services/{hash}", "post"],
      ["/schemas/service.json", "get"],
      ["/config", "get"],
      ["/metrics", "get"],
    ] as const) {
      expect(d.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    }
    // The body schema is the handler's own validator: its pattern and strictness come through.
    const register = d.paths["/services"]!.post!;
    const body = register.requestBody!.content["application/json"]!.schema;
    expect(body.required).toEqual(["service_manager"]);
    expect(body.additionalProperties).toBe(false);
    expect(body.properties.service_manager.properties.evm.properties.address.pattern).toBe("^0x[0-9a-fA-F]{40}$");
    expect(register.security).toEqual([{ bearer: [] }]);
    expect(Object.keys(register.responses).sort()).toEqual(["204", "400", "401", "404", "409", "422", "502"]);
  });

  it("documents every route the app mounts (read from the app, so new routes are checked too)", async () => {
    const d = await doc();
    // Middleware registers as "ALL"; a route's own middleware repeats its method and path.
    const mounted = [
      ...new Set(
        createApp()
          .routes.filter((r) => r.method !== "ALL")
          .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)(\{[^}]*\})?/g, "{$1}")}`),
      ),
    ];
    expect(mounted.length).toBeGreaterThan(20);
    const documented = new Set(
      Object.entries(d.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`)),
    );
    expect(mounted.filter((route) => !documented.has(route))).toEqual([]);
    expect([...documented].filter((route) => !mounted.includes(route))).toEqual([]);
  });

  it("documents non-JSON bodies, queries and path parameters from the validators", async () => {
    const d = await doc();
    const upload = d.paths["/dev/components"]!.post!;
    expect(Object.keys(upload.requestBody!.content)).toEqual(["application/wasm"]);
    expect(Object.keys(upload.responses).sort()).toEqual(["200", "201", "400", "401", "413"]);
    const tasks = d.paths["/tasks"]!.get as unknown as { parameters: { name: string; in: string; schema: any }[] };
    const status = tasks.parameters.find((p) => p.name === "status")!;
    expect(status.in).toBe("query");
    expect(status.schema.enum).toEqual(["executing", "signed", "submitted", "landed", "failed"]);
    const addChain = d.paths["/dev/chains"]!.post!.requestBody!.content["application/json"]!.schema;
    expect(addChain.required).toEqual(["chain", "config"]);
    const submission = d.paths["/aggregator/submissions"]!.post!.requestBody!.content["application/json"]!.schema;
    expect(JSON.stringify(submission.properties.envelope_signature.properties.algorithm)).toContain("secp256k1");
  });

  it("every documented operation is routed (none answers the not-found route error)", async () => {
    const d = await doc();
    const fill = (path: string) =>
      path
        .replace("{chain}", "evm:31337")
        .replace("{address}", `0x${"12".repeat(20)}`)
        .replace("{hash}", "0".repeat(64))
        .replace("{digest}", "0".repeat(64))
        .replace("{eventId}", `0x${"34".repeat(20)}`)
        .replace("{source}", "test_source")
        .replace("{service_id}", "0".repeat(64))
        .replace("{bucket}", "bucket")
        .replace("{key}", "key")
        .replace("{path}", "file.txt");
    for (const [path, ops] of Object.entries(d.paths)) {
      for (const method of Object.keys(ops)) {
        const res = await SELF.fetch(`http://node${fill(path)}`, {
          method: method.toUpperCase(),
          headers: { "content-type": "application/json" },
          body: method === "get" ? undefined : "{}",
        });
        const text = await res.text();
        expect(text.includes('"code":"not_found"'), `${method} ${path} → ${res.status}`).toBe(false);
      }
    }
  });
});

describe("GET /api-docs", () => {
  it("serves an offline page that loads the generated document", async () => {
    const res = await SELF.fetch("http://node/api-docs");
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('fetch("/api-docs/openapi.json")');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href="http/);
  });
});
