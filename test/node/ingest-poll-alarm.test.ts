/**
 * Polling finer than the minute cron: POLL_INTERVAL_MS=1000 on a node under `wrangler dev`. The
 * scheduled handler is run once (it arms the ChainPoller's alarm); after that nothing but the alarm
 * polls, yet block-interval heights and a cron schedule with seconds keep firing.
 */
import { readFile } from "node:fs/promises";
import { createTestClient, http } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDevnet, type RunningDevnet } from "../../devnet/index";
import { computeServiceId } from "../../src/service/event-id";
import { api, sleep } from "./ingest-helpers";

let running: RunningDevnet;
let serviceId: string;

const count = async (workflowId: string) =>
  (await api(running).get<{ tasks: unknown[] }>(`/tasks?service_id=${serviceId}&workflow_id=${workflowId}&limit=500`))
    .tasks.length;

beforeAll(async () => {
  running = await startDevnet({ anvilPort: 0, nodePort: 0, pollIntervalMs: 0, nodeVars: { POLL_INTERVAL_MS: "1000" } });
  const node = api(running);
  const digest = await node.uploadComponent(new Uint8Array(await readFile("build/components/trigger-echo.wasm")));
  const chain = running.devnet.chain.key;
  const component = {
    source: { digest },
    permissions: {},
    fuel_limit: null,
    time_limit_seconds: 30,
    config: {},
    env_keys: [],
  };
  const service = {
    name: "alarm",
    workflows: {
      "every-block": {
        trigger: { block_interval: { chain, n_blocks: 1, start_block: null, end_block: null } },
        component,
        submit: "none",
      },
      "every-second": {
        trigger: { cron: { schedule: "* * * * * *", start_time: null, end_time: null } },
        component,
        submit: "none",
      },
    },
    status: "active",
    manager: { evm: { chain, address: "0x00000000000000000000000000000000000000d1" } },
  };
  serviceId = computeServiceId(service.manager as never);
  const { hash } = await node.post<{ hash: string }>("/dev/services", service);
  await node.post(`/dev/services/${hash}`, {});
}, 180_000);
afterAll(async () => {
  await running?.stop();
});

describe("POLL_INTERVAL_MS (ChainPoller alarm)", { timeout: 240_000 }, () => {
  it("keeps polling and firing cron ticks on their second with no further scheduled runs", async () => {
    const node = running.devnet.nodes[0]!;
    await fetch(`${node.url}/cdn-cgi/handler/scheduled`, { signal: AbortSignal.timeout(20_000) }).catch(() => {});

    // A seconds cron: many runs within a few seconds, one task per tick.
    let seconds = 0;
    for (let i = 0; i < 120 && seconds < 4; i++) {
      await sleep(1_000);
      seconds = await count("every-second");
    }
    expect(seconds).toBeGreaterThanOrEqual(4);

    // New blocks are picked up by the alarm alone.
    const before = await count("every-block");
    await createTestClient({ mode: "anvil", transport: http(running.devnet.chain.rpc_url) }).mine({ blocks: 3 });
    let blocks = before;
    for (let i = 0; i < 120 && blocks < before + 3; i++) {
      await sleep(1_000);
      blocks = await count("every-block");
    }
    expect(blocks).toBeGreaterThanOrEqual(before + 3);
  });
});
