import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";

type Doc = {
  openapi: string;
  paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: any }> }; security?: unknown[]; responses: Record<string, unknown> }>>;
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
      ["/services", "post"], ["/services", "delete"], ["/services", "get"], ["/services/{chain}/{address}", "get"],
      ["/services/signer", "post"], ["/dev/services", "post"], ["/dev/services/{hash}", "get"], ["/dev/services/{hash}", "post"],
      ["/schemas/service.json", "get"], ["/config", "get"], ["/metrics", "get"],
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

  it("every documented operation is routed (none answers the not-found route error)", async () => {
    const d = await doc();
    const fill = (path: string) =>
      path.replace("{chain}", "evm:31337").replace("{address}", `0x${"12".repeat(20)}`).replace("{hash}", "0".repeat(64));
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
