/**
 * A service upgrade never stalls the chain's intake, on real parts (anvil, the node under `wrangler
 * dev`, scheduled runs by hand): the demo service's URI goes unreachable mid-stream, a trigger for a
 * second service on the same chain still becomes a task, and the first service's upgrade applies in
 * the background once its URI answers again.
 */
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { createPublicClient, createWalletClient, http } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { anvilAccount } from "../../devnet/index";
import { NEW_TRIGGER_EVENT_HASH, startDevnet, type RunningDevnet } from "../../devnet/index";
import { wavsServiceManagerAbi } from "../../src/chain/abi/wavs-service-manager";
import { runCli } from "../../cli/main";
import { computeServiceId } from "../../src/service/event-id";
import { api, fireTrigger, pollOnce, settledTaskIds, sleep } from "./ingest-helpers";

let running: RunningDevnet;
let server: Server;
/** What the service owner's server answers: null while it is down (503). */
let serving: string | null = null;
let serverUrl: string;

beforeAll(async () => {
  server = createServer((_req, res) => {
    if (serving === null) {
      res.writeHead(503).end("down");
      return;
    }
    res.writeHead(200, { "content-type": "application/json" }).end(serving);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  serverUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  running = await startDevnet({ anvilPort: 0, nodePort: 0, pollIntervalMs: 0, extraVars: { UPGRADE_RETRY_MS: "500" } });
  await pollOnce(running); // the cursor starts past the devnet's own setup
}, 180_000);
afterAll(async () => {
  await running?.stop();
  await new Promise((resolve) => server?.close(resolve));
});

describe("service upgrade faults", { timeout: 300_000 }, () => {
  it("an unreachable upgrade URI holds no other service's events; the upgrade applies once the URI is back", async () => {
    const node = api(running);
    const chain = running.devnet.chain.key;
    const demo = running.devnet.service;
    const managerPath = `/services/${chain}/${running.devnet.contracts.service_manager.toLowerCase()}`;

    // A second service on the same chain, listening to the same trigger contract.
    const echo = await node.uploadComponent(new Uint8Array(await readFile("build/components/trigger-echo.wasm")));
    const other = {
      name: "bystander",
      status: "active",
      manager: { evm: { chain, address: "0x00000000000000000000000000000000000000d1" } },
      workflows: {
        echo: {
          trigger: {
            evm_contract_event: {
              address: running.devnet.contracts.trigger.toLowerCase(),
              chain,
              event_hash: NEW_TRIGGER_EVENT_HASH,
            },
          },
          component: {
            source: { digest: echo },
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
    const { hash } = await node.post<{ hash: string }>("/dev/services", other);
    await node.post(`/dev/services/${hash}`, {});
    const otherId = computeServiceId(other.manager as never);

    // The demo service's owner points its URI at a server that is down.
    const current = await node.get<{ name: string }>(managerPath);
    const rpc = http(running.devnet.chain.rpc_url);
    const tx = await createWalletClient({ account: anvilAccount(0), transport: rpc }).writeContract({
      chain: null,
      address: running.devnet.contracts.service_manager,
      abi: wavsServiceManagerAbi,
      functionName: "setServiceURI",
      args: [`${serverUrl}/service.json`],
    });
    await createPublicClient({ transport: rpc }).waitForTransactionReceipt({ hash: tx });
    await fireTrigger(running, 31);

    // The poller reads past the upgrade log: the bystander's trigger lands, the upgrade waits.
    await pollOnce(running);
    expect(await settledTaskIds(running, otherId, "echo", 1)).toHaveLength(1);
    const { upgrades } = await node.get<{ upgrades: { status: string; error: string; service_id: string }[] }>(
      `/services/upgrades?service_id=${demo.id}`,
    );
    expect(upgrades[0]).toMatchObject({ status: "retrying", error: expect.stringMatching(/503/) });
    expect((await node.get<{ name: string }>(managerPath)).name).toBe(current.name);

    // The URI comes back (a name change: applied without approval) and the next run's retry takes it.
    serving = JSON.stringify({ ...current, name: "demo, upgraded" });
    await sleep(1_000);
    await pollOnce(running);
    let name = "";
    for (let i = 0; i < 20 && name !== "demo, upgraded"; i++) {
      name = (await node.get<{ name: string }>(managerPath)).name;
      if (name !== "demo, upgraded") await sleep(500);
    }
    expect(name).toBe("demo, upgraded");
    const after = await node.get<{ upgrades: { status: string }[] }>(`/services/upgrades?service_id=${demo.id}`);
    expect(after.upgrades[0]).toMatchObject({ status: "applied" });
    const metrics = await (await fetch(`${running.devnet.nodes[0]!.url}/metrics`)).text();
    expect(metrics).toContain('wavs_service_upgrades{status="applied"} 1');

    // A component swap waits for the operator, who approves it with the CLI.
    const upgraded = await node.get<{ workflows: Record<string, { component: { source: unknown } }> }>(managerPath);
    upgraded.workflows.default!.component.source = { digest: echo };
    serving = JSON.stringify(upgraded);
    const tx2 = await createWalletClient({ account: anvilAccount(0), transport: rpc }).writeContract({
      chain: null,
      address: running.devnet.contracts.service_manager,
      abi: wavsServiceManagerAbi,
      functionName: "setServiceURI",
      args: [`${serverUrl}/service-v3.json`],
    });
    await createPublicClient({ transport: rpc }).waitForTransactionReceipt({ hash: tx2 });
    await pollOnce(running);
    const waiting = (
      await node.get<{ upgrades: { id: number; status: string; changes: string[] }[] }>(
        `/services/upgrades?status=awaiting_approval`,
      )
    ).upgrades;
    expect(waiting).toHaveLength(1);
    expect(waiting[0]!.changes).toEqual([expect.stringMatching(/^workflow "default": component /)]);
    expect((await node.get<typeof upgraded>(managerPath)).workflows.default!.component.source).not.toEqual({
      digest: echo,
    });
    const node0 = running.devnet.nodes[0]!;
    expect(
      await runCli([
        "upgrades",
        "approve",
        String(waiting[0]!.id),
        "--node",
        node0.url,
        "--token",
        node0.bearer_token,
        "--json",
      ]),
    ).toBe(0);
    expect((await node.get<typeof upgraded>(managerPath)).workflows.default!.component.source).toEqual({
      digest: echo,
    });
  });
});
