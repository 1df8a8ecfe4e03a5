import { SELF, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { storeComponent } from "../../src/execute/component-store";
import { prepareComponent } from "../../src/execute/load-component";
import { runOperatorComponent } from "../../src/execute/run-component";
import { registerSavedService, saveServiceJson } from "../../src/service/register-service";
import { stringifyServiceJson } from "../../src/service/service-json";
import { actionFor, builtComponent, raw, SERVICE_ID, serviceFor, utf8 } from "./component-fixtures";

/** The component plus a custom section, so that its digest (and isolate) is new to this test. */
function freshCopy(name: string, tag: string): Uint8Array {
  const base = builtComponent(name);
  const label = new TextEncoder().encode(tag);
  return new Uint8Array([...base, 0x00, 1 + label.length, label.length, ...label]);
}

/** Waits (bounded) for the upload's background transpile to leave artifacts in R2. */
async function artifactsOf(digest: string): Promise<string[]> {
  for (let i = 0; i < 600; i++) {
    const page = await env.COMPONENTS.list({ prefix: `transpiled/${digest}/` });
    if (page.objects.length > 0) return page.objects.map((o) => o.key);
    await new Promise((r) => setTimeout(r, 100));
  }
  return [];
}

describe("upload", () => {
  it("transpiles the component in the background, so its first run only loads the artifacts", async () => {
    const res = await SELF.fetch("http://node/components", {
      method: "POST",
      headers: { authorization: "Bearer test-token" },
      body: freshCopy("square", "prepare-test"),
    });
    expect(res.status).toBe(201);
    const { digest } = (await res.json()) as { digest: string };
    expect(await artifactsOf(digest)).toHaveLength(1);

    const service = serviceFor(digest);
    const first = await runOperatorComponent(env, {
      service,
      serviceId: SERVICE_ID,
      workflowId: "default",
      action: actionFor(service, raw('{"x":4}')),
      chains: [],
    });
    expect(utf8(first.responses[0]!.payload)).toBe('{"y":16}');
    expect(first.debug).toMatchObject({ coldLoad: true, transpiled: false });
  });
});

describe("registration", () => {
  it("transpiles the service's components in the background, as upload does", async () => {
    // stored without an upload (as a downloaded component is), so nothing prepared it yet
    const { digest } = await storeComponent(env, freshCopy("square", "register-prepare-test"));
    expect((await env.COMPONENTS.list({ prefix: `transpiled/${digest}/` })).objects).toHaveLength(0);
    const service = serviceFor(digest);
    service.manager = { evm: { chain: "evm:31337", address: `0x${"7e".repeat(20)}` } };
    const hash = await saveServiceJson(env, stringifyServiceJson(service));
    await registerSavedService(env, hash);
    expect(await artifactsOf(digest)).toHaveLength(1);
  });
});

describe("background preparation", () => {
  it("runs one at a time in an isolate, in the order asked", async () => {
    const { digest: big } = await storeComponent(env, freshCopy("square", "serial-big"));
    const { digest: tiny } = await storeComponent(env, freshCopy("trap", "serial-tiny"));
    const finished: string[] = [];
    // unserialised, the tiny WAT component (ms to transpile) would be done long before the
    // QuickJS one (hundreds of ms)
    await Promise.all([
      prepareComponent(env, big).then((r) => finished.push(`big ${r.transpiled}`)),
      prepareComponent(env, tiny).then((r) => finished.push(`tiny ${r.transpiled}`)),
    ]);
    expect(finished).toEqual(["big true", "tiny true"]);
  });
});
