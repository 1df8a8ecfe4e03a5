import { env } from "cloudflare:test";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { storeComponent } from "../../src/execute/component-store";
import { prepareComponent } from "../../src/execute/load-component";
import { runOperatorComponent } from "../../src/execute/run-component";
import type { AllowedHttpHosts } from "../../src/service/types";
import { actionFor, builtComponent, raw, serviceFor, utf8 } from "./component-fixtures";

// components/http-oracle: the TypeScript example that fetches over HTTP (StarlingMonkey's fetch
// on wasi:http, through the OutboundGate) and uses config-var, env and keyvalue. The server
// (http-server.global.ts) answers "hello from GET <path>[ key=<x-api-key>]" and sets the gate's
// refusal header, which the gate must strip.
describe("http-oracle (TypeScript example with HTTP)", () => {
  const endpoint = `http://127.0.0.1:${inject("httpServerPort")}/quote`;
  let digest: string;
  beforeAll(async () => {
    ({ digest } = await storeComponent(env, builtComponent("http-oracle")));
    // a 13 MB component: transpiled once here, not inside the first test's time
    await prepareComponent(env, digest);
  }, 300_000);

  const lookup = async (
    serviceId: string,
    query: string,
    options: { hosts?: AllowedHttpHosts; envKeys?: string[] } = {},
  ) => {
    const service = serviceFor(digest, { endpoint });
    const component = service.workflows.default!.component;
    component.permissions.allowed_http_hosts = options.hosts ?? { only: ["127.0.0.1"] };
    component.env_keys = options.envKeys ?? [];
    const result = await runOperatorComponent(env, {
      service,
      serviceId,
      workflowId: "default",
      action: actionFor(service, raw(query)),
      chains: [],
    });
    return { answer: JSON.parse(utf8(result.responses[0]!.payload)), logs: result.logs };
  };

  it("GETs the configured endpoint, sends the granted key, counts lookups in keyvalue", async () => {
    const serviceId = "a1".repeat(32);
    const first = await lookup(serviceId, "eth usd");
    expect(first.answer).toEqual({
      query: "eth usd",
      status: 200,
      body: "hello from GET /quote?q=eth%20usd",
      lookups: 1,
      previous: null,
      api_key_sent: false,
    });
    expect(first.logs).toContain("info: http-oracle: eth usd -> 200 (lookup #1)");
    const second = await lookup(serviceId, "eth usd", { envKeys: ["WAVS_ENV_ORACLE_API_KEY"] });
    expect(second.answer).toEqual({
      query: "eth usd",
      status: 200,
      body: "hello from GET /quote?q=eth%20usd key=oracle-secret",
      lookups: 2,
      previous: "hello from GET /quote?q=eth%20usd",
      api_key_sent: true,
    });
    // another service counts on its own
    expect((await lookup("a2".repeat(32), "eth usd")).answer).toMatchObject({ lookups: 1, previous: null });
  }, 120_000);

  it("a host outside allowed_http_hosts is refused by the gate: the run fails with the component's error", async () => {
    await expect(lookup("a3".repeat(32), "btc", { hosts: { only: ["example.com"] } })).rejects.toMatchObject({
      kind: "component-error",
      message: expect.stringContaining(`http-oracle: GET ${endpoint}?q=btc failed`),
    });
  }, 120_000);

  it("allowed_http_hosts none: refused at instantiation (it imports wasi:http), as WAVS", async () => {
    await expect(lookup("a4".repeat(32), "btc", { hosts: "none" })).rejects.toMatchObject({
      kind: "instantiate",
      message: expect.stringMatching(/allow no HTTP hosts/),
    });
  }, 120_000);

  it("an empty query fails with the component's message", async () => {
    await expect(lookup("a5".repeat(32), "  ")).rejects.toMatchObject({
      kind: "component-error",
      message: "http-oracle: empty query",
    });
  }, 120_000);
});
