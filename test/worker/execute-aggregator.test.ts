import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { storeComponent } from "../../src/execute/component-store";
import { runAggregatorComponent, runOperatorComponent, type AggregatorInput } from "../../src/execute/run-component";
import type { Component, Hex, Service } from "../../src/service/types";
import { SERVICE_ID, actionFor, builtComponent, componentFor, raw, serviceFor } from "./component-fixtures";

const HANDLER: Hex = "0x00000000000000000000000000000000000000aa";
const EVENT_ID: Hex = "0x600aa2f4ead908bdb17c6509293ed567e544428b";

/** A service whose default workflow submits through `aggregator`. */
function serviceWithAggregator(aggregator: Component): Service {
  const service = serviceFor("1".repeat(64));
  service.workflows.default!.submit = {
    aggregator: {
      url: "http://127.0.0.1:1",
      component: aggregator,
      signature_kind: { algorithm: "secp256k1", prefix: "eip191" },
    },
  };
  return service;
}

function inputFor(service: Service, payload = "answer"): AggregatorInput {
  return {
    action: actionFor(service, raw("hello")),
    response: { payload: new TextEncoder().encode(payload), ordering: 3n, event_id_salt: null },
    eventId: EVENT_ID,
  };
}

describe("simple-aggregator", () => {
  let digest: string;
  beforeAll(async () => {
    ({ digest } = await storeComponent(env, builtComponent("simple-aggregator")));
  });

  it("asks to submit to the configured chain and handler", async () => {
    const component = componentFor(digest, { chain: "evm:31337", service_handler: HANDLER });
    const service = serviceWithAggregator(component);
    const result = await runAggregatorComponent(env, {
      service,
      serviceId: SERVICE_ID,
      workflowId: "default",
      component,
      call: { fn: "process-input", input: inputFor(service) },
      chains: [],
    });
    expect(result.actions).toEqual([{ submit: { evm: { chain: "evm:31337", address: HANDLER, gas_price: null } } }]);
  });

  it("fails with its own message when the config is missing", async () => {
    const component = componentFor(digest, { chain: "evm:31337" });
    const service = serviceWithAggregator(component);
    await expect(
      runAggregatorComponent(env, {
        service,
        serviceId: SERVICE_ID,
        workflowId: "default",
        component,
        call: { fn: "process-input", input: inputFor(service) },
        chains: [],
      }),
    ).rejects.toMatchObject({
      kind: "component-error",
      message: "simple-aggregator: the `service_handler` config variable must be a 0x address",
    });
  });

  it("accepts a submit callback, answering no actions", async () => {
    const component = componentFor(digest, { chain: "evm:31337", service_handler: HANDLER });
    const service = serviceWithAggregator(component);
    const result = await runAggregatorComponent(env, {
      service,
      serviceId: SERVICE_ID,
      workflowId: "default",
      component,
      call: { fn: "handle-submit-callback", input: inputFor(service), txResult: { ok: `0x${"ab".repeat(32)}` } },
      chains: [],
    });
    expect(result.actions).toEqual([]);
  });

  it("refuses to run as an operator component", async () => {
    const service = serviceFor(digest);
    await expect(
      runOperatorComponent(env, {
        service,
        serviceId: SERVICE_ID,
        workflowId: "default",
        action: actionFor(service, raw("x")),
        chains: [],
      }),
    ).rejects.toMatchObject({ kind: "instantiate", message: expect.stringMatching(/does not export `run`/) });
  });
});

describe("an aggregator with a timer", () => {
  let component: Component;
  let service: Service;
  beforeAll(async () => {
    const { digest } = await storeComponent(env, builtComponent("timer-aggregator"));
    component = componentFor(digest, { chain: "evm:31337", service_handler: HANDLER, delay_secs: "5" });
    service = serviceWithAggregator(component);
  });

  const call = (c: Parameters<typeof runAggregatorComponent>[1]["call"]) =>
    runAggregatorComponent(env, {
      service,
      serviceId: SERVICE_ID,
      workflowId: "default",
      component,
      call: c,
      chains: [],
    });

  it("asks for a timer, and sees the event id and the operator's response", async () => {
    const result = await call({ fn: "process-input", input: inputFor(service, "hi") });
    expect(result.actions).toEqual([{ timer: { delay_ms: 5000 } }]);
    expect(result.logs).toEqual([
      `info: process-input: event ${EVENT_ID.slice(2)} workflow default data raw payload 6869 ordering 3`,
    ]);
  });

  it("submits from the timer callback with a u128 gas price", async () => {
    const result = await call({ fn: "handle-timer-callback", input: inputFor(service) });
    expect(result.actions).toEqual([
      { submit: { evm: { chain: "evm:31337", address: HANDLER, gas_price: (1n << 64n) + 7n } } },
    ]);
    expect(result.logs[0]).toMatch(/^info: handle-timer-callback: event 600aa2f4/);
  });

  it("gets the transaction hash, or the error, in the submit callback", async () => {
    const ok = await call({
      fn: "handle-submit-callback",
      input: inputFor(service),
      txResult: { ok: `0x${"ab".repeat(32)}` },
    });
    expect(ok.actions).toEqual([]);
    expect(ok.logs).toEqual([`info: submitted in evm tx ${"ab".repeat(32)} for ${EVENT_ID.slice(2)}`]);
    await expect(
      call({
        fn: "handle-submit-callback",
        input: inputFor(service),
        txResult: { err: "reverted: InsufficientQuorum" },
      }),
    ).rejects.toMatchObject({
      kind: "component-error",
      message: "timer-aggregator: submission failed: reverted: InsufficientQuorum",
    });
  });

  it("refuses an event id that is not 20 bytes", async () => {
    await expect(call({ fn: "process-input", input: { ...inputFor(service), eventId: "0x1234" } })).rejects.toThrow(
      /not 20/,
    );
  });
});
