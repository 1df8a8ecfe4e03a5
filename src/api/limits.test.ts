import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { corsAllowList, parseCorsOrigins } from "./limits";

const app = new Hono<{ Bindings: Env }>().use("*", corsAllowList()).get("/x", (c) => c.text("ok"));
const allowOrigin = async (corsOrigins: string | undefined, origin: string) =>
  (await app.request("/x", { headers: { origin } }, { CORS_ORIGINS: corsOrigins } as Env)).headers.get(
    "access-control-allow-origin",
  );

describe("CORS allow-list", () => {
  it("reads comma-separated and JSON lists, trimming trailing slashes", () => {
    expect(parseCorsOrigins(" https://a.example/, https://b.example ")).toEqual([
      "https://a.example",
      "https://b.example",
    ]);
    expect(parseCorsOrigins('["https://a.example"]')).toEqual(["https://a.example"]);
    expect(parseCorsOrigins(undefined)).toEqual([]);
  });

  it("built once per value, yet follows a changed value (no stale list)", async () => {
    expect(await allowOrigin("https://a.example", "https://a.example")).toBe("https://a.example");
    expect(await allowOrigin("https://a.example", "https://a.example")).toBe("https://a.example");
    expect(await allowOrigin("https://b.example", "https://a.example")).toBeNull();
    expect(await allowOrigin("https://b.example", "https://b.example")).toBe("https://b.example");
    expect(await allowOrigin(undefined, "https://b.example")).toBeNull();
  });
});
