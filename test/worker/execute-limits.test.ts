import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { storeComponent } from "../../src/execute/component-store";
import { runOperatorComponent } from "../../src/execute/run-component";
import { SERVICE_ID, actionFor, builtComponent, raw, serviceFor, utf8 } from "./component-fixtures";

async function run(name: string, input: string, timeLimitSeconds: bigint | null = null) {
  const { digest } = await storeComponent(env, builtComponent(name));
  const service = serviceFor(digest);
  service.workflows.default!.component.time_limit_seconds = timeLimitSeconds;
  return runOperatorComponent(env, {
    service,
    serviceId: SERVICE_ID,
    workflowId: "default",
    action: actionFor(service, raw(input)),
    chains: [],
  });
}

/** square still answers: the node keeps serving other components. */
async function expectSquareStillRuns(): Promise<void> {
  const result = await run("square", '{"x":7}');
  expect(utf8(result.responses[0]!.payload)).toBe('{"y":49}');
}

describe("a failing component fails only its own run", () => {
  it("trap: a typed trap error", async () => {
    await expect(run("trap", "x")).rejects.toMatchObject({
      name: "ExecutionError",
      kind: "trap",
      message: expect.stringMatching(/unreachable/),
    });
    await expectSquareStillRuns();
  });

  it("unbounded memory growth: a trap once the engine refuses to grow it", async () => {
    await expect(run("memory-hog", "x")).rejects.toMatchObject({ kind: "trap" });
    await expectSquareStillRuns();
  });

  it("a loop that outlasts time_limit_seconds: out-of-time", async () => {
    const started = Date.now();
    await expect(run("long-loop", "x", 1n)).rejects.toMatchObject({
      kind: "out-of-time",
      message: "component ran longer than 1 s",
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    await expectSquareStillRuns();
  });
});
