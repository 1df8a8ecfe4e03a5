import { env } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { storeComponent } from "../../src/execute/component-store";
import { runOperatorComponent } from "../../src/execute/run-component";
import { GATE_REFUSAL_HEADER, type OutboundPolicy } from "../../src/execute/outbound-policy";
import type { AllowedHttpHosts } from "../../src/service/types";
import { SERVICE_ID, actionFor, builtComponent, raw, serviceFor, utf8 } from "./component-fixtures";

// http-get (test/fixtures/wat/http-get.wat) GETs http://{url-authority}{url-path} with wasi:http
// and answers "<status> <body>"; the server (http-server.global.ts) answers "hello from GET <path>"
// and also sets the gate's refusal header, which the gate must not let through as a refusal.
describe("wasi:http through the OutboundGate (JSPI)", () => {
  const port = inject("httpServerPort");
  const authority = `127.0.0.1:${port}`;
  let digest: string;
  beforeAll(async () => {
    ({ digest } = await storeComponent(env, builtComponent("http-get")));
  });

  const get = async (hosts: AllowedHttpHosts, path = "/hello") => {
    const service = serviceFor(digest, { "url-authority": authority, "url-path": path });
    service.workflows.default!.component.permissions.allowed_http_hosts = hosts;
    const result = await runOperatorComponent(env, {
      service,
      serviceId: SERVICE_ID,
      workflowId: "default",
      action: actionFor(service, raw("")),
      chains: [],
    });
    return utf8(result.responses[0]!.payload);
  };

  it("all: a request to any host leaves, and the response reaches the component", async () => {
    expect(await get("all")).toBe("200 hello from GET /hello");
  });

  it("only: a granted host (any port, or the one port named) is reached", async () => {
    expect(await get({ only: ["127.0.0.1"] }, "/a?b=c")).toBe("200 hello from GET /a?b=c");
    expect(await get({ only: ["example.com", authority] })).toBe("200 hello from GET /hello");
  });

  it("only: any other host fails inside the component with the gate's message", async () => {
    await expect(get({ only: ["example.com"] })).rejects.toMatchObject({
      kind: "component-error",
      message: `error-code 38: wavs-edge: HTTP host ${authority} is not in the component's allowed_http_hosts (example.com)`,
    });
    await expect(get({ only: ["127.0.0.1:1"] })).rejects.toMatchObject({
      kind: "component-error",
      message: expect.stringContaining(`HTTP host ${authority} is not in the component's allowed_http_hosts`),
    });
  });

  it("an upstream 403 carrying the gate's refusal header reaches the component as a 403, not a refusal", async () => {
    expect(await get("all", "/forbidden")).toBe("403 hello from GET /forbidden");
  });

  it("the gate strips its refusal header from upstream answers and marks only its own refusals", async () => {
    const gate = (policy: OutboundPolicy) =>
      (exports as unknown as { OutboundGate(o: { props: OutboundPolicy }): Fetcher }).OutboundGate({ props: policy });
    const passed = await gate({ all: true }).fetch(`http://${authority}/forbidden`);
    expect(passed.status).toBe(403);
    expect(passed.headers.has(GATE_REFUSAL_HEADER)).toBe(false);
    expect(passed.headers.get("content-type")).toBe("text/plain");
    expect(await passed.text()).toBe("hello from GET /forbidden");
    const ok = await gate({ only: ["127.0.0.1"] }).fetch(`http://${authority}/hello`);
    expect(ok.headers.has(GATE_REFUSAL_HEADER)).toBe(false);
    expect(await ok.text()).toBe("hello from GET /hello");
    const refused = await gate({ only: ["example.com"] }).fetch(`http://${authority}/hello`);
    expect(refused.status).toBe(403);
    expect(refused.headers.get(GATE_REFUSAL_HEADER)).toBe("refused");
    expect(await refused.text()).toBe(
      `wavs-edge: HTTP host ${authority} is not in the component's allowed_http_hosts (example.com)`,
    );
  });

  it("none: the component is refused at instantiation, as WAVS", async () => {
    await expect(get("none")).rejects.toMatchObject({
      kind: "instantiate",
      message: expect.stringMatching(/allow no HTTP hosts/),
    });
  });

  it("one component under different permissions at once: each run gets its own gate", async () => {
    const [allowed, refused] = await Promise.allSettled([get({ only: ["127.0.0.1"] }), get({ only: ["localhost"] })]);
    expect(allowed).toEqual({ status: "fulfilled", value: "200 hello from GET /hello" });
    expect(refused).toMatchObject({ status: "rejected", reason: { kind: "component-error" } });
  });
});
