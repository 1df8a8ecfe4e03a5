/**
 * The poller on real parts: anvil behind a provider-like proxy that refuses wide eth_getLogs ranges,
 * a dead first RPC endpoint (failover), a confirmation depth of 2, and the node under `wrangler dev`
 * whose scheduled handler the test runs by hand (so "the node was down" means: no run happened).
 */
import { createTestClient, http } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDevnet, type RunningDevnet } from "../../devnet/index";
import { freePort } from "../../devnet/index";
import { api, fireTrigger, pollOnce, settledTasks, startRpcProxy, type RpcProxy } from "./ingest-helpers";

const CONFIRMATIONS = 2;
const MAX_RANGE = 16;
let running: RunningDevnet;
let proxy: RpcProxy;
let testClient: ReturnType<typeof createTestClient>;
const logs: string[] = [];

beforeAll(async () => {
  const deadPort = await freePort();
  proxy = await startRpcProxy(MAX_RANGE);
  running = await startDevnet({
    anvilPort: 0, // random ports: other test files run devnets at once
    nodePort: 0,
    pollIntervalMs: 0,
    confirmations: CONFIRMATIONS,
    onLog: (line) => logs.push(line),
    nodeRpcUrls: (anvilUrl) => {
      proxy.upstream = anvilUrl;
      return [`http://127.0.0.1:${deadPort}`, proxy.url];
    },
  });
  testClient = createTestClient({ mode: "anvil", transport: http(running.devnet.chain.rpc_url) });
}, 180_000);
afterAll(async () => {
  await running?.stop();
  await proxy?.stop();
});

describe("poller", { timeout: 240_000 }, () => {
  it("reports the chain healthy through the failover endpoint, in WAVS's health shape", async () => {
    const health = await api(running).get<{ timestamp: string; chains: Record<string, unknown> }>("/health");
    expect(health.chains[running.devnet.chain.key]).toBe("healthy");
    expect(Date.parse(health.timestamp)).not.toBeNaN();
  });

  it("does not enqueue a log before it is buried under the confirmation depth", async () => {
    const fired = await fireTrigger(running, 3);
    const next = await pollOnce(running);
    expect(next).not.toBeNull();
    // head == fired block: the poller may read at most up to head − 2.
    expect(BigInt(next!)).toBeLessThanOrEqual(fired.blockNumber);
    expect(await settledTasks(running)).toHaveLength(0);

    await testClient.mine({ blocks: CONFIRMATIONS });
    expect(BigInt((await pollOnce(running))!)).toBeGreaterThan(fired.blockNumber);
    expect(await settledTasks(running, 1)).toHaveLength(1);
  });

  it("backfills every event from the blocks that passed while it was not polling, splitting refused ranges", async () => {
    const refusedBefore = proxy.refused;
    for (let i = 0; i < 3; i++) {
      await fireTrigger(running, 10 + i);
      await testClient.mine({ blocks: 20 });
    }
    // Several runs may be needed: each reads at most 20 ranges.
    for (let i = 0; i < 3; i++) await pollOnce(running);
    expect(await settledTasks(running, 4)).toHaveLength(4);
    expect(proxy.refused).toBeGreaterThan(refusedBefore);
  });

  it("never executes a log reorged out above the depth, and takes its re-inclusion as a new event", async () => {
    const before = (await settledTasks(running)).length;
    const snapshot = await testClient.snapshot();
    const reorged = await fireTrigger(running, 77);
    await pollOnce(running); // too shallow to be read
    await testClient.revert({ id: snapshot });
    await testClient.mine({ blocks: CONFIRMATIONS + 1 }); // the same heights, without the log
    const next = await pollOnce(running);
    expect(BigInt(next!)).toBeGreaterThan(reorged.blockNumber);
    expect(await settledTasks(running)).toHaveLength(before);

    const reincluded = await fireTrigger(running, 77);
    expect(reincluded.txHash).not.toBe(undefined);
    await testClient.mine({ blocks: CONFIRMATIONS });
    await pollOnce(running);
    const tasks = await settledTasks(running, before + 1);
    expect(tasks).toHaveLength(before + 1);
  });
});
