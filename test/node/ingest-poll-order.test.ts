/**
 * The poller's run boundaries on real parts (anvil, the node under `wrangler dev`, scheduled runs by
 * hand): a per-run message cap (POLL_MAX_MESSAGES = 2 here) that stops the cursor at a block
 * boundary, and a service upgrade in the middle of a block, where logs are taken in chain order
 * (block, log index), resumed after the upgrade log when a run fails part-way. Several transactions
 * share a block with anvil's automine off; the node reads anvil through a proxy that can fail a read.
 */
import { readFile } from "node:fs/promises";
import { bytesToHex, createPublicClient, createTestClient, createWalletClient, http, toHex, type Hash } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { anvilAccount } from "../../devnet/index";
import { NEW_TRIGGER_EVENT_HASH, startDevnet, type RunningDevnet } from "../../devnet/index";
import { simpleTriggerAbi } from "../../devnet/index";
import { wavsServiceManagerAbi } from "../../src/chain/abi/wavs-service-manager";
import { logToTriggerData, type ChainLog } from "../../src/ingest/log-to-trigger-data";
import { computeEventId, encodeTriggerDataSalt } from "../../src/service/event-id";
import { api, pollOnce, settledTaskIds, startRpcProxy, type RpcProxy } from "./ingest-helpers";

const MAX_MESSAGES = 2;
let running: RunningDevnet;
let proxy: RpcProxy;
let testClient: ReturnType<typeof createTestClient>;
let publicClient: ReturnType<typeof createPublicClient>;
let wallet: ReturnType<typeof createWalletClient>;
const account = anvilAccount(0); // owns the service manager; anyone may call addTrigger
const logs: string[] = [];

beforeAll(async () => {
  proxy = await startRpcProxy(1_000_000);
  running = await startDevnet({
    anvilPort: 0,
    nodePort: 0,
    pollIntervalMs: 0,
    // AUTO_UPGRADE_SERVICES: the upgrade test adds a workflow, which otherwise waits for approval.
    extraVars: { POLL_MAX_MESSAGES: String(MAX_MESSAGES), AUTO_UPGRADE_SERVICES: "*" },
    onLog: (line) => logs.push(line),
    nodeRpcUrls: (anvilUrl) => {
      proxy.upstream = anvilUrl;
      return [proxy.url];
    },
  });
  const transport = http(running.devnet.chain.rpc_url);
  testClient = createTestClient({ mode: "anvil", transport });
  publicClient = createPublicClient({ transport, cacheTime: 0 });
  wallet = createWalletClient({ account, transport });
  await pollOnce(running); // the cursor starts past the devnet's own setup
}, 180_000);
afterAll(async () => {
  await testClient?.setAutomine(true).catch(() => {});
  await running?.stop();
  await proxy?.stop();
});

type Sent = { hash: Hash; x: number | null };

/** Sends `calls` from one account with consecutive nonces, so a block holds them in this order. */
async function sendInOrder(calls: ({ x: number } | { uri: string })[]): Promise<Sent[]> {
  let nonce = await publicClient.getTransactionCount({ address: account.address, blockTag: "pending" });
  const sent: Sent[] = [];
  for (const call of calls) {
    const common = { chain: null, account, nonce: nonce++, gas: 500_000n } as const;
    const hash =
      "x" in call
        ? await wallet.writeContract({
            ...common,
            address: running.devnet.contracts.trigger,
            abi: simpleTriggerAbi,
            functionName: "addTrigger",
            args: [toHex(`{"x":${call.x}}`)],
          })
        : await wallet.writeContract({
            ...common,
            address: running.devnet.contracts.service_manager,
            abi: wavsServiceManagerAbi,
            functionName: "setServiceURI",
            args: [call.uri],
          });
    sent.push({ hash, x: "x" in call ? call.x : null });
  }
  return sent;
}

/** Mines one block per group (each group's transactions in one block); returns each tx's block and log index. */
async function mineGroups(groups: ({ x: number } | { uri: string })[][]) {
  await testClient.setAutomine(false);
  const out: { x: number | null; block: bigint; logIndex: number; log: ChainLog; timestamp: bigint }[] = [];
  try {
    for (const group of groups) {
      const sent = await sendInOrder(group);
      await testClient.mine({ blocks: 1 });
      for (const s of sent) {
        const receipt = await publicClient.getTransactionReceipt({ hash: s.hash });
        expect(receipt.status).toBe("success");
        const log = receipt.logs.at(-1)!;
        const { timestamp } = await publicClient.getBlock({ blockHash: receipt.blockHash });
        out.push({ x: s.x, block: receipt.blockNumber, logIndex: log.logIndex, log: log as ChainLog, timestamp });
      }
    }
  } finally {
    await testClient.setAutomine(true);
  }
  return out;
}

/** The event id of a workflow's task for a log (trigger-echo gives no salt: it comes from the trigger data). */
const eventIdOf = (serviceId: string, workflowId: string, m: { log: ChainLog; timestamp: bigint }) =>
  bytesToHex(
    computeEventId(
      serviceId,
      workflowId,
      encodeTriggerDataSalt(logToTriggerData(running.devnet.chain.key, m.log, m.timestamp)),
    ),
  );

describe("poller run boundaries", { timeout: 300_000 }, () => {
  it("stops a run at its message cap on a block boundary; the next runs go on, nothing lost or doubled", async () => {
    const demo = running.devnet.service;
    const before = (await settledTaskIds(running, demo.id, demo.workflow_id, 0, 5_000)).length;
    const cursor = async () =>
      BigInt(
        (await api(running).get<{ pollers: Record<string, { next_block: number }> }>("/health")).pollers[
          running.devnet.chain.key
        ]!.next_block,
      );
    const start = await cursor();
    // Blocks holding 1, 2, 3 (over the whole cap) and 1 matching logs.
    const mined = await mineGroups([
      [{ x: 101 }],
      [{ x: 102 }, { x: 103 }],
      [{ x: 104 }, { x: 105 }, { x: 106 }],
      [{ x: 107 }],
    ]);
    const [b1, b2, b3, b4] = [mined[0]!.block, mined[1]!.block, mined[3]!.block, mined[6]!.block];
    expect(new Set([b1, b2, b3, b4]).size).toBe(4);
    expect(start).toBeLessThanOrEqual(b1);

    // Run 1: block 1 (1 message); block 2's two would make 3 > 2: the cursor stops at block 2.
    expect(BigInt((await pollOnce(running))!)).toBe(b2);
    // Run 2: block 2 (2); block 3 does not fit after it.
    expect(BigInt((await pollOnce(running))!)).toBe(b3);
    // Run 3: block 3 alone, over the cap, goes whole since the run had sent nothing.
    expect(BigInt((await pollOnce(running))!)).toBe(b3 + 1n);
    // Run 4: block 4 and the empty blocks up to the head.
    expect(BigInt((await pollOnce(running))!)).toBeGreaterThan(b4);

    const capped = logs.filter((l) => l.includes('"poll run reached its message cap"'));
    expect(capped.length).toBeGreaterThanOrEqual(2);
    const enqueued = logs
      .filter((l) => l.includes('"events enqueued"'))
      .map((l) => JSON.parse(l.slice(l.indexOf("{"))) as { from: string; to: string; count: number })
      .filter((l) => BigInt(l.from) >= start);
    expect(enqueued.map((l) => l.count)).toEqual([1, 2, 3, 1]);
    expect(await settledTaskIds(running, demo.id, demo.workflow_id, before + 7)).toHaveLength(before + 7);
  });

  it("sends logs after an upgrade log in the same block to the upgraded workflows, those before it to the old ones", async () => {
    const node = api(running);
    const demo = running.devnet.service;
    const manager = {
      evm: { chain: running.devnet.chain.key, address: running.devnet.contracts.service_manager.toLowerCase() },
    };
    const current = await node.get<{ workflows: Record<string, unknown> }>(
      `/services/${manager.evm.chain}/${manager.evm.address}`,
    );
    const digest = await node.uploadComponent(new Uint8Array(await readFile("build/components/trigger-echo.wasm")));
    // The old workflow stays (a task queued for a removed workflow is skipped when it runs), so both
    // sides of the upgrade log can be seen: only the logs after it reach the new one.
    const upgraded = {
      ...current,
      workflows: {
        ...current.workflows,
        "echo-new": {
          trigger: {
            evm_contract_event: {
              address: running.devnet.contracts.trigger.toLowerCase(),
              chain: manager.evm.chain,
              event_hash: NEW_TRIGGER_EVENT_HASH,
            },
          },
          component: {
            source: { digest },
            permissions: {},
            fuel_limit: null,
            time_limit_seconds: 30,
            config: {},
            env_keys: [],
          },
          submit: "none",
        },
      },
    };
    const { hash } = await node.post<{ hash: string }>("/dev/services", upgraded);
    const oldBefore = await settledTaskIds(running, demo.id, demo.workflow_id, 0, 5_000);

    // One block: NewTrigger(201), ServiceURIUpdated, NewTrigger(202).
    const mined = await mineGroups([
      [{ x: 201 }, { uri: `${running.devnet.nodes[0]!.url}/dev/services/${hash}` }, { x: 202 }],
    ]);
    expect(new Set(mined.map((m) => m.block)).size).toBe(1);
    expect(mined[0]!.logIndex).toBeLessThan(mined[1]!.logIndex);
    expect(mined[1]!.logIndex).toBeLessThan(mined[2]!.logIndex);
    await testClient.mine({ blocks: 1 });
    // The first run reads the block, applies the upgrade, then its read of the block's rest fails:
    // the next run must resume after the upgrade log, not read the block again from its start.
    const failedBefore = logs.filter((l) => l.includes('"poll failed"')).length;
    proxy.failGetLogsAfter(1);
    expect(BigInt((await pollOnce(running))!)).toBe(mined[0]!.block);
    expect(logs.filter((l) => l.includes('"poll failed"')).length).toBe(failedBefore + 1);
    proxy.failGetLogsAfter(-1);
    expect(BigInt((await pollOnce(running))!)).toBeGreaterThan(mined[0]!.block);

    const after = await node.get<{ workflows: Record<string, unknown> }>(
      `/services/${manager.evm.chain}/${manager.evm.address}`,
    );
    expect(Object.keys(after.workflows).sort()).toEqual([demo.workflow_id, "echo-new"].sort());
    // The old workflow got both logs' tasks; the new one only 202's, after the upgrade log.
    const oldAfter = await settledTaskIds(running, demo.id, demo.workflow_id, oldBefore.length + 2);
    expect(oldAfter.filter((id) => !oldBefore.includes(id))).toEqual(
      [mined[0]!, mined[2]!].map((m) => eventIdOf(demo.id, demo.workflow_id, m)).sort(),
    );
    expect(await settledTaskIds(running, demo.id, "echo-new", 1)).toEqual([eventIdOf(demo.id, "echo-new", mined[2]!)]);
  });
});
