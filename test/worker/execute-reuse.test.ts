import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { storeComponent } from "../../src/execute/component-store";
import { runOperatorComponent, type RunOperatorComponentReturnType } from "../../src/execute/run-component";
import type { Service } from "../../src/service/types";
import { actionFor, builtComponent, raw, serviceFor, utf8 } from "./component-fixtures";

/** A distinct service id per test: instances are kept per (service, workflow). */
let nextService = 0;
const newServiceId = (): string => (++nextService).toString(16).padStart(64, "a");

async function stored(name: string): Promise<Service> {
  const { digest } = await storeComponent(env, builtComponent(name));
  return serviceFor(digest);
}

function run(
  service: Service,
  serviceId: string,
  input = "x",
  workflowId = "default",
): Promise<RunOperatorComponentReturnType> {
  return runOperatorComponent(env, {
    service,
    serviceId,
    workflowId,
    action: actionFor(service, raw(input), workflowId),
    chains: [],
  });
}

/** counter.wat answers how many times its instance has run, and traps on the third run. */
async function count(service: Service, serviceId: string, workflowId = "default"): Promise<string> {
  const r = await run(service, serviceId, "x", workflowId);
  return utf8(r.responses[0]!.payload);
}

describe("component instances", () => {
  it("are reused by the runs of one workflow", async () => {
    const service = await stored("counter");
    const serviceId = newServiceId();
    const first = await run(service, serviceId);
    const second = await run(service, serviceId);
    expect(utf8(first.responses[0]!.payload)).toBe("1");
    expect(first.debug.instantiated).toBe(true);
    expect(utf8(second.responses[0]!.payload)).toBe("2");
    expect(second.debug.instantiated).toBe(false);
  });

  it("are never shared between services or workflows running the same component", async () => {
    const service = await stored("counter");
    const twoWorkflows: Service = {
      ...service,
      workflows: { default: service.workflows.default!, other: service.workflows.default! },
    };
    const a = newServiceId();
    const b = newServiceId();
    expect(await count(twoWorkflows, a)).toBe("1");
    expect(await count(twoWorkflows, b)).toBe("1");
    expect(await count(twoWorkflows, a, "other")).toBe("1");
    expect(await count(twoWorkflows, a)).toBe("2");
    expect(await count(twoWorkflows, b)).toBe("2");
  });

  it("are replaced after a trap, so the next run starts afresh and succeeds", async () => {
    const service = await stored("counter");
    const serviceId = newServiceId();
    expect(await count(service, serviceId)).toBe("1");
    expect(await count(service, serviceId)).toBe("2");
    await expect(run(service, serviceId)).rejects.toMatchObject({ kind: "trap" });
    const after = await run(service, serviceId);
    expect(utf8(after.responses[0]!.payload)).toBe("1");
    expect(after.debug.instantiated).toBe(true);
    expect(await count(service, serviceId)).toBe("2");
  });

  it("are replaced after a component error", async () => {
    const service = await stored("square");
    const serviceId = newServiceId();
    await run(service, serviceId, '{"x":2}');
    await expect(run(service, serviceId, "not json")).rejects.toMatchObject({ kind: "component-error" });
    const after = await run(service, serviceId, '{"x":5}');
    expect(utf8(after.responses[0]!.payload)).toBe('{"y":25}');
    expect(after.debug.instantiated).toBe(true);
  });

  it("run concurrent calls of one workflow one at a time, each with its own input, logs and answer", async () => {
    const service = await stored("square");
    const serviceId = newServiceId();
    const xs = Array.from({ length: 16 }, (_, i) => i + 1);
    const results = await Promise.all(xs.map((x) => run(service, serviceId, `{"x":${x}}`)));
    for (const [i, r] of results.entries()) {
      const x = xs[i]!;
      expect(utf8(r.responses[0]!.payload)).toBe(`{"y":${x * x}}`);
      // each run's log holds its own line only: no line of another run leaked in
      expect(r.logs).toEqual([`info: square: raw -> {"y":${x * x}}`]);
    }
    expect(results.filter((r) => r.debug.instantiated)).toHaveLength(1);
  });

  it("count concurrent calls in order: the runs of one instance never overlap", async () => {
    const service = await stored("counter");
    const serviceId = newServiceId();
    // the third run traps (counter.wat): the serialised order is 1, 2, trap
    const settled = await Promise.allSettled([
      count(service, serviceId),
      count(service, serviceId),
      count(service, serviceId),
    ]);
    expect(settled.map((s) => (s.status === "fulfilled" ? s.value : "trap"))).toEqual(["1", "2", "trap"]);
  });

  it("are abandoned when a run outlives its time limit, so the calls behind it are not held up", async () => {
    const base = await stored("wasi-probe");
    const serviceId = newServiceId();
    const withLimit = (seconds: bigint): Service => ({
      ...base,
      workflows: {
        default: {
          ...base.workflows.default!,
          component: { ...base.workflows.default!.component, time_limit_seconds: seconds },
        },
      },
    });
    // wasi-probe runs under JSPI: "sleep-long" suspends for 8 s
    await expect(run(withLimit(1n), serviceId, "sleep-long")).rejects.toMatchObject({ kind: "out-of-time" });
    // queued behind the sleeping run this would wait ~7 s and so exceed its own 4 s limit
    const next = await run(withLimit(4n), serviceId, "env");
    expect(utf8(next.responses[0]!.payload)).toBe("[]");
    expect(next.debug.instantiated).toBe(true);
  });
});
