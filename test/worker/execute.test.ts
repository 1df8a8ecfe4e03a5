import { env } from "cloudflare:test";
import { decodeAbiParameters, encodeAbiParameters, hexToString, toHex } from "viem";
import { beforeAll, describe, expect, it } from "vitest";
import { ExecutionError, InvalidComponentError } from "../../src/execute/errors";
import { runOperatorComponent } from "../../src/execute/run-component";
import { storeComponent } from "../../src/execute/component-store";
import type { Service, TriggerData } from "../../src/service/types";
import {
  NEW_TRIGGER_TOPIC,
  SERVICE_ID,
  TRIGGER_CONTRACT,
  actionFor,
  builtComponent,
  raw,
  serviceFor,
} from "./component-fixtures";

/** The NewTrigger log the demo trigger contract emits for `data` (see contracts/). */
function newTriggerEvent(triggerId: bigint, json: string): TriggerData {
  const triggerInfo = encodeAbiParameters(
    [
      {
        type: "tuple",
        components: [
          { name: "triggerId", type: "uint64" },
          { name: "creator", type: "address" },
          { name: "data", type: "bytes" },
        ],
      },
    ],
    [{ triggerId, creator: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", data: toHex(new TextEncoder().encode(json)) }],
  );
  return {
    EvmContractEvent: {
      chain: "evm:31337",
      contract_address: TRIGGER_CONTRACT,
      log_data: { topics: [NEW_TRIGGER_TOPIC], data: encodeAbiParameters([{ type: "bytes" }], [triggerInfo]) },
      tx_hash: `0x${"ab".repeat(32)}`,
      block_number: 7n,
      log_index: 0n,
      block_hash: `0x${"cd".repeat(32)}`,
      block_timestamp: 1_700_000_000n,
      tx_index: 0n,
    },
  };
}

function decodeDataWithId(payload: Uint8Array): { triggerId: bigint; data: string } {
  const [value] = decodeAbiParameters(
    [
      {
        type: "tuple",
        components: [
          { name: "triggerId", type: "uint64" },
          { name: "data", type: "bytes" },
        ],
      },
    ],
    toHex(payload),
  );
  return { triggerId: value.triggerId, data: hexToString(value.data) };
}

describe("square component through the Worker Loader", () => {
  let digest: string;
  let service: Service;

  beforeAll(async () => {
    ({ digest } = await storeComponent(env, builtComponent("square")));
    service = serviceFor(digest);
  });

  it("answers a NewTrigger event with abi.encode(DataWithId)", async () => {
    const result = await runOperatorComponent(env, {
      service,
      serviceId: SERVICE_ID,
      workflowId: "default",
      action: actionFor(service, newTriggerEvent(42n, '{"x":12}')),
      chains: [],
    });
    expect(result.responses).toHaveLength(1);
    expect(result.responses[0]!.ordering).toBeNull();
    expect(result.responses[0]!.event_id_salt).toBeNull();
    expect(decodeDataWithId(result.responses[0]!.payload)).toEqual({ triggerId: 42n, data: '{"y":144}' });
    expect(result.logs).toContain('info: square: trigger 42 -> {"y":144}');
  });

  it("answers raw JSON with the JSON answer", async () => {
    const result = await runOperatorComponent(env, {
      service,
      serviceId: SERVICE_ID,
      workflowId: "default",
      action: actionFor(service, raw('{"x":3}')),
      chains: [],
    });
    expect(new TextDecoder().decode(result.responses[0]!.payload)).toBe('{"y":9}');
  });

  it("squares integers beyond 2^53 exactly", async () => {
    const result = await runOperatorComponent(env, {
      service,
      serviceId: SERVICE_ID,
      workflowId: "default",
      action: actionFor(service, raw('{"x":18446744073709551615}')),
      chains: [],
    });
    expect(new TextDecoder().decode(result.responses[0]!.payload)).toBe(
      `{"y":${(18446744073709551615n * 18446744073709551615n).toString()}}`,
    );
  });

  it("surfaces the component's err as a component-error with its message", async () => {
    const run = runOperatorComponent(env, {
      service,
      serviceId: SERVICE_ID,
      workflowId: "default",
      action: actionFor(service, raw("not json")),
      chains: [],
    });
    await expect(run).rejects.toBeInstanceOf(ExecutionError);
    await expect(run).rejects.toMatchObject({
      kind: "component-error",
      message: expect.stringMatching(/^square: input is not JSON/),
    });
  });

  it("reports a missing x as a component-error", async () => {
    await expect(
      runOperatorComponent(env, {
        service,
        serviceId: SERVICE_ID,
        workflowId: "default",
        action: actionFor(service, raw('{"y":1}')),
        chains: [],
      }),
    ).rejects.toMatchObject({ kind: "component-error", message: 'square: input has no "x"' });
  });

  it("runs two calls of the same component at once", async () => {
    const [a, b] = await Promise.all(
      [5, 6].map((x) =>
        runOperatorComponent(env, {
          service,
          serviceId: SERVICE_ID,
          workflowId: "default",
          action: actionFor(service, raw(`{"x":${x}}`)),
          chains: [],
        }),
      ),
    );
    expect(new TextDecoder().decode(a!.responses[0]!.payload)).toBe('{"y":25}');
    expect(new TextDecoder().decode(b!.responses[0]!.payload)).toBe('{"y":36}');
  });
});

/** The square component under a digest no other test used: same code plus a custom section. */
async function storeFreshSquare(tag: string): Promise<string> {
  const base = builtComponent("square");
  const name = new TextEncoder().encode(tag);
  const custom = new Uint8Array([0x00, 1 + name.length, name.length, ...name]);
  const bytes = new Uint8Array(base.length + custom.length);
  bytes.set(base);
  bytes.set(custom, base.length);
  const { digest, created } = await storeComponent(env, bytes);
  expect(created).toBe(true);
  return digest;
}

describe("component cache", () => {
  it("transpiles once, even for concurrent first runs, and caches the artifacts in R2", async () => {
    const digest = await storeFreshSquare("cache-test");
    const service = serviceFor(digest);
    const run = (x: number) =>
      runOperatorComponent(env, {
        service,
        serviceId: SERVICE_ID,
        workflowId: "default",
        action: actionFor(service, raw(`{"x":${x}}`)),
        chains: [],
      });

    const firsts = await Promise.all([run(4), run(5)]);
    expect(firsts.map((r) => new TextDecoder().decode(r.responses[0]!.payload))).toEqual(['{"y":16}', '{"y":25}']);
    expect(firsts.filter((r) => r.debug.transpiled)).toHaveLength(1);
    const later = await run(6);
    expect(later.debug).toMatchObject({ coldLoad: false, transpiled: false });
    expect(new TextDecoder().decode(later.responses[0]!.payload)).toBe('{"y":36}');
    const cached = await env.COMPONENTS.list({ prefix: `transpiled/${digest}/` });
    expect(cached.objects).toHaveLength(1);
  });

  it("fails with component-missing when the bytes were never stored", async () => {
    const service = serviceFor("0".repeat(64));
    await expect(
      runOperatorComponent(env, {
        service,
        serviceId: SERVICE_ID,
        workflowId: "default",
        action: actionFor(service, raw('{"x":1}')),
        chains: [],
      }),
    ).rejects.toMatchObject({ kind: "component-missing" });
  });
});

describe("host imports", () => {
  it("answer config, service, workflow, event ids and chains; responses come back whole", async () => {
    const { digest } = await storeComponent(env, builtComponent("host-probe"));
    const service = serviceFor(digest, { greeting: "hello", another: "x" });
    service.workflows.default!.component.time_limit_seconds = 12n;
    service.workflows.aaa = structuredClone(service.workflows.default!);
    const result = await runOperatorComponent(env, {
      service,
      serviceId: SERVICE_ID,
      workflowId: "default",
      action: actionFor(service, raw("hello")),
      chains: [{ key: "evm:31337", chain_id: "31337", rpc_url: "http://127.0.0.1:8545", confirmations: 0 }],
    });

    expect(result.responses).toEqual([
      { payload: expect.any(Uint8Array), ordering: 7n, event_id_salt: new Uint8Array([1, 2, 3]) },
    ]);
    const report = JSON.parse(new TextDecoder().decode(result.responses[0]!.payload));
    expect(report).toEqual({
      configVar: "hello",
      missingConfigVar: null,
      serviceName: "square",
      workflowIds: ["aaa", "default"],
      status: "active",
      manager: "0000000000000000000000000000000000000001",
      workflowId: "default",
      getWorkflowId: "default",
      componentConfig: [
        ["another", "x"],
        ["greeting", "hello"],
      ],
      timeLimit: 12,
      allowedHosts: { tag: "none" },
      triggerTag: "evm-contract-event",
      actionServiceId: SERVICE_ID,
      dataTag: "raw",
      // vectors from DESIGN.md: workflow `default`, Raw("hello"), and salt "a"
      eventId: "600aa2f4ead908bdb17c6509293ed567e544428b",
      saltedEventId: "dc11a321708f859ac5c478851033c9f9fda01852",
      chain: { chainId: "31337", wsEndpoints: [], httpEndpoint: "http://127.0.0.1:8545" },
      missingChain: null,
    });
    expect(result.logs).toEqual([
      "error: probe error",
      "warn: probe warn",
      "info: probe info",
      "debug: probe debug",
      "trace: probe trace",
    ]);
  });
});

describe("storeComponent", () => {
  it("refuses a core module", async () => {
    const core = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
    const store = storeComponent(env, core);
    await expect(store).rejects.toBeInstanceOf(InvalidComponentError);
    await expect(store).rejects.toThrow(/core WebAssembly module/);
  });

  it("refuses bytes that are not wasm", async () => {
    await expect(storeComponent(env, new TextEncoder().encode("hello, world"))).rejects.toThrow(/magic number/);
  });

  it("stores a component once under its sha256", async () => {
    const bytes = builtComponent("square");
    const first = await storeComponent(env, bytes);
    const again = await storeComponent(env, bytes);
    expect(first.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(again).toMatchObject({ digest: first.digest, size: bytes.length, created: false, world: "operator" });
    expect((await env.COMPONENTS.head(`components/${first.digest}`))?.size).toBe(bytes.length);
  });
});
