/**
 * Triggers beyond the plain contract event, on real parts: anvil, the node under `wrangler dev`, and
 * the trigger-echo component (no event-id salt, so each task's event id is derived from the trigger
 * data). Block-interval and cron triggers, the manual trigger, fan-out to several services (paused
 * ones excluded) and a service upgrade through ServiceURIUpdated. The expected event ids are
 * computed here from WAVS's rules, so a task exists exactly for the heights and scheduled times WAVS
 * would fire, with the id every operator derives.
 */
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { bytesToHex, createPublicClient, createTestClient, createWalletClient, http, type Hex } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { anvilAccount } from "../../devnet/index";
import { NEW_TRIGGER_EVENT_HASH, startDevnet, type RunningDevnet } from "../../devnet/index";
import { wavsServiceManagerAbi } from "../../src/chain/abi/wavs-service-manager";
import { computeEventId, computeServiceId, encodeTriggerDataSalt } from "../../src/service/event-id";
import type { TriggerData } from "../../src/service/types";
import { api, fireTrigger, pollOnce, settledTaskIds, sleep } from "./ingest-helpers";

let running: RunningDevnet;
let testClient: ReturnType<typeof createTestClient>;
let serviceId: string;
let start: bigint;
let registeredAt: number;
let echoDigest: string;
const MANAGER = "0x00000000000000000000000000000000000000a1" as Hex;

const eventIdFor = (workflowId: string, data: TriggerData) =>
  bytesToHex(computeEventId(serviceId, workflowId, encodeTriggerDataSalt(data)));

/** The sorted event ids of one workflow's tasks (of this test's service unless told), once steady. */
const tasksOf = (workflowId: string, atLeast: number, timeoutMs?: number, ofService = serviceId) =>
  settledTaskIds(running, ofService, workflowId, atLeast, timeoutMs);

/** Event ids of a `*\/2 * * * * *` workflow for every even second in [fromMs, toMs]. */
function cronCandidates(workflowId: string, fromMs: number, toMs: number): Map<string, number> {
  const out = new Map<string, number>();
  for (let s = Math.ceil(fromMs / 1000); s <= Math.floor(toMs / 1000); s++) {
    if (s % 2 === 0) out.set(eventIdFor(workflowId, { Cron: { trigger_time: BigInt(s) * 1_000_000_000n } }), s);
  }
  return out;
}

beforeAll(async () => {
  // The upgrade test adds a workflow, which otherwise waits for the operator's approval.
  running = await startDevnet({
    anvilPort: 0,
    nodePort: 0,
    pollIntervalMs: 0,
    extraVars: { AUTO_UPGRADE_SERVICES: "*" },
    onLog: process.env.DEBUG_INGEST ? (line) => console.error(line) : undefined,
  });
  testClient = createTestClient({ mode: "anvil", transport: http(running.devnet.chain.rpc_url) });
  const node = api(running);
  const digest = await node.uploadComponent(new Uint8Array(await readFile("build/components/trigger-echo.wasm")));
  echoDigest = digest;
  const chain = running.devnet.chain.key;
  const head = await testClient.request({ method: "eth_blockNumber" } as never).then((h) => BigInt(h as string));
  start = head + 3n;
  const component = {
    source: { digest },
    permissions: { allowed_http_hosts: "none", file_system: false, raw_sockets: false, dns_resolution: false },
    fuel_limit: null,
    time_limit_seconds: 30,
    config: {},
    env_keys: [],
  };
  const service = {
    name: "timers",
    workflows: {
      "every-three": {
        trigger: { block_interval: { chain, n_blocks: 3, start_block: Number(start), end_block: Number(start + 7n) } },
        component,
        submit: "none",
      },
      "only-once": {
        trigger: {
          block_interval: { chain, n_blocks: 5, start_block: Number(start + 4n), end_block: Number(start + 4n) },
        },
        component,
        submit: "none",
      },
      manual: { trigger: "manual", component, submit: "none" },
      "every-two-seconds": {
        trigger: { cron: { schedule: "*/2 * * * * *", start_time: null, end_time: null } },
        component,
        submit: "none",
      },
    },
    status: "active",
    manager: { evm: { chain, address: MANAGER } },
  };
  serviceId = computeServiceId(service.manager as never);
  const { hash } = await node.post<{ hash: string }>("/dev/services", service);
  registeredAt = Date.now();
  await node.post(`/dev/services/${hash}`, {});
}, 180_000);
afterAll(async () => {
  await running?.stop();
});

describe("timer triggers", { timeout: 240_000 }, () => {
  it("fires block-interval workflows at WAVS's heights, start == end once, with the event ids operators agree on", async () => {
    await testClient.mine({ blocks: 12 });
    await pollOnce(running);
    const chain = running.devnet.chain.key;
    const expected = (wf: string, heights: bigint[]) =>
      heights.map((h) => eventIdFor(wf, { BlockInterval: { chain, block_height: h } })).sort();
    expect(await tasksOf("every-three", 3)).toEqual(expected("every-three", [start, start + 3n, start + 6n]));
    expect(await tasksOf("only-once", 1)).toEqual(expected("only-once", [start + 4n]));

    // Polling again over the same blocks adds nothing.
    await testClient.mine({ blocks: 5 });
    await pollOnce(running);
    expect(await tasksOf("every-three", 3)).toHaveLength(3);
    expect(await tasksOf("only-once", 1)).toHaveLength(1);
  });

  it("fires a seconds cron with its scheduled time, one task per run however many ticks were missed", async () => {
    const before = await tasksOf("every-two-seconds", 0, 5_000);
    const firstFrom = registeredAt - 2_000;
    await sleep(5_000); // two or three ticks pass unpolled
    await pollOnce(running);
    const afterFirst = await tasksOf("every-two-seconds", before.length + 1);
    const firstNew = afterFirst.filter((id) => !before.includes(id));
    expect(firstNew).toHaveLength(1);
    const candidates = cronCandidates("every-two-seconds", firstFrom, Date.now());
    expect(candidates.has(firstNew[0]!)).toBe(true);

    const secondFrom = candidates.get(firstNew[0]!)! * 1000 + 1;
    await sleep(6_000);
    await pollOnce(running);
    const afterSecond = await tasksOf("every-two-seconds", afterFirst.length + 1);
    const secondNew = afterSecond.filter((id) => !afterFirst.includes(id));
    expect(secondNew).toHaveLength(1);
    const later = cronCandidates("every-two-seconds", secondFrom, Date.now());
    // The collapsed tick is the latest one: at least 4 s after the first.
    expect(later.get(secondNew[0]!)! - candidates.get(firstNew[0]!)!).toBeGreaterThanOrEqual(4);
  });

  it("fires a workflow by hand with the CLI's trigger command (POST /dev/triggers), waiting for it", async () => {
    const node = running.devnet.nodes[0]!;
    const args = [
      "trigger",
      "--node",
      node.url,
      "--token",
      node.bearer_token,
      "--service-id",
      serviceId,
      "--workflow-id",
      "manual",
      "--input",
      '{"x":3}',
      "--wait",
      "--json",
    ];
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(process.execPath, [join(process.cwd(), "bin", "wavs-edge.mjs"), ...args], (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }),
      ),
    );
    expect(stderr).not.toContain("error:");
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ completed: true, event_keys: [expect.stringMatching(/^manual:/)] });
    const eventId = eventIdFor("manual", { Raw: new TextEncoder().encode('{"x":3}') });
    expect(await tasksOf("manual", 1)).toEqual([eventId]);
  });

  it("fans one log out to every matching workflow of every service, and gives paused services none", async () => {
    const node = api(running);
    const chain = running.devnet.chain.key;
    const onNewTrigger = {
      evm_contract_event: {
        address: running.devnet.contracts.trigger.toLowerCase(),
        chain,
        event_hash: NEW_TRIGGER_EVENT_HASH,
      },
    };
    const echo = {
      source: { digest: echoDigest },
      permissions: {},
      fuel_limit: null,
      time_limit_seconds: 30,
      config: {},
      env_keys: [],
    };
    const register = async (address: Hex, status: string) => {
      const service = {
        name: `fan-out ${status}`,
        workflows: {
          first: { trigger: onNewTrigger, component: echo, submit: "none" },
          second: { trigger: onNewTrigger, component: echo, submit: "none" },
        },
        status,
        manager: { evm: { chain, address } },
      };
      const { hash } = await node.post<{ hash: string }>("/dev/services", service);
      await node.post(`/dev/services/${hash}`, {});
      return computeServiceId(service.manager as never);
    };
    const active = await register("0x00000000000000000000000000000000000000b1", "active");
    const paused = await register("0x00000000000000000000000000000000000000c1", "paused");
    const demo = running.devnet.service;
    const demoBefore = (await tasksOf(demo.workflow_id, 0, 5_000, demo.id)).length;

    await fireTrigger(running, 21);
    await pollOnce(running);
    expect(await tasksOf("first", 1, 90_000, active)).toHaveLength(1);
    expect(await tasksOf("second", 1, 90_000, active)).toHaveLength(1);
    expect(await tasksOf(demo.workflow_id, demoBefore + 1, 90_000, demo.id)).toHaveLength(demoBefore + 1);
    expect(await tasksOf("first", 0, 5_000, paused)).toHaveLength(0);
    expect(await tasksOf("second", 0, 5_000, paused)).toHaveLength(0);
  });

  it("upgrades a service when its manager emits ServiceURIUpdated: new workflows, same signing key", async () => {
    const node = api(running);
    const demo = running.devnet.service;
    const manager = {
      evm: { chain: running.devnet.chain.key, address: running.devnet.contracts.service_manager.toLowerCase() },
    };
    const signer = () =>
      node.post<{ secp256k1: { hd_index: number; evm_address: string } }>("/services/signer", {
        service_manager: manager,
      });
    const keyBefore = await signer();

    const current = await node.get<{ workflows: Record<string, { component: unknown }> }>(
      `/services/${manager.evm.chain}/${manager.evm.address}`,
    );
    const head = await testClient.request({ method: "eth_blockNumber" } as never).then((h) => BigInt(h as string));
    const s = head + 3n;
    const upgraded = {
      ...current,
      workflows: {
        "echo-blocks": {
          trigger: {
            block_interval: {
              chain: manager.evm.chain,
              n_blocks: 1,
              start_block: Number(s),
              end_block: Number(s + 1n),
            },
          },
          component: {
            source: { digest: echoDigest },
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
    const account = anvilAccount(0);
    const rpc = http(running.devnet.chain.rpc_url);
    const tx = await createWalletClient({ account, transport: rpc }).writeContract({
      chain: null,
      address: running.devnet.contracts.service_manager,
      abi: wavsServiceManagerAbi,
      functionName: "setServiceURI",
      args: [`${running.devnet.nodes[0]!.url}/dev/services/${hash}`],
    });
    await createPublicClient({ transport: rpc }).waitForTransactionReceipt({ hash: tx });

    await testClient.mine({ blocks: 5 });
    await pollOnce(running); // applies the upgrade, cut at its block
    await pollOnce(running); // reads on with the upgraded workflows
    const after = await node.get<{ workflows: Record<string, unknown> }>(
      `/services/${manager.evm.chain}/${manager.evm.address}`,
    );
    expect(Object.keys(after.workflows)).toEqual(["echo-blocks"]);
    expect(await signer()).toEqual(keyBefore);
    const blockIds = [s, s + 1n]
      .map((h) =>
        bytesToHex(
          computeEventId(
            demo.id,
            "echo-blocks",
            encodeTriggerDataSalt({ BlockInterval: { chain: manager.evm.chain, block_height: h } }),
          ),
        ),
      )
      .sort();
    expect(await tasksOf("echo-blocks", 2, 90_000, demo.id)).toEqual(blockIds);

    // The old workflow is gone: a NewTrigger log gives it no task any more.
    const oldBefore = (await tasksOf(demo.workflow_id, 0, 5_000, demo.id)).length;
    await fireTrigger(running, 22);
    await pollOnce(running);
    expect(await tasksOf(demo.workflow_id, 0, 8_000, demo.id)).toHaveLength(oldBefore);
  });
});
