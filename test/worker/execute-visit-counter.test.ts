import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { storeComponent } from "../../src/execute/component-store";
import { runOperatorComponent } from "../../src/execute/run-component";
import { actionFor, builtComponent, raw, serviceFor, utf8 } from "./component-fixtures";

// components/visit-counter: the TypeScript example (config-var, env, keyvalue).
describe("visit-counter (TypeScript example)", () => {
  let digest: string;
  beforeAll(async () => {
    ({ digest } = await storeComponent(env, builtComponent("visit-counter")));
  });

  const visit = async (serviceId: string, visitor: string, envKeys: string[] = []) => {
    const service = serviceFor(digest, { label: "guestbook" });
    service.workflows.default!.component.env_keys = envKeys;
    const result = await runOperatorComponent(env, {
      service,
      serviceId,
      workflowId: "default",
      action: actionFor(service, raw(visitor)),
      chains: [],
    });
    return { answer: JSON.parse(utf8(result.responses[0]!.payload)), logs: result.logs };
  };

  it("counts visits per visitor in keyvalue, remembers the previous one, reads its label and its key", async () => {
    const serviceId = "e".repeat(64);
    expect((await visit(serviceId, "alice")).answer).toEqual({
      label: "guestbook",
      visitor: "alice",
      visits: 1,
      previous: null,
      api_key_set: false,
    });
    expect((await visit(serviceId, "bob", ["WAVS_ENV_VISIT_API_KEY"])).answer).toEqual({
      label: "guestbook",
      visitor: "bob",
      visits: 1,
      previous: "alice",
      api_key_set: true,
    });
    const third = await visit(serviceId, "alice");
    expect(third.answer).toMatchObject({ visits: 2, previous: "bob", api_key_set: false });
    expect(third.logs).toContain("info: visit-counter: alice #2");
  });

  it("another service has its own counts", async () => {
    await visit("f".repeat(64), "carol");
    expect((await visit("0".repeat(63) + "1", "carol")).answer).toMatchObject({ visits: 1, previous: null });
  });

  it("refuses an empty visitor with the component's error", async () => {
    await expect(visit("e".repeat(64), "  ")).rejects.toMatchObject({
      kind: "component-error",
      message: "visit-counter: empty visitor name",
    });
  });
});
