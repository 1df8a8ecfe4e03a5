/**
 * The service API on a real node (anvil + `wrangler dev`), then the node restarted on the same
 * state directory: services, signing key indexes, cursors and tasks are all still there.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addTrigger } from "../../devnet/index";
import { DEVNET_BEARER_TOKEN, DEVNET_OPERATOR_MNEMONIC, startDevnet, type RunningDevnet } from "../../devnet/index";
import { startNode } from "../../devnet/index";
import { waitForResult } from "../../devnet/index";

let stateDir: string;
let running: RunningDevnet | undefined;

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), "wavs-edge-persist-"));
  running = await startDevnet({ stateDir, anvilPort: 0, nodePort: 0, pollIntervalMs: 1_000 }); // random ports: other test files run devnets at once
}, 180_000);
afterAll(async () => {
  await running?.stop();
  await rm(stateDir, { recursive: true, force: true });
});

const node = () => running!.devnet.nodes[0]!.url;
async function call(method: string, path: string, body?: string) {
  const res = await fetch(`${node()}${path}`, {
    method,
    headers: { authorization: `Bearer ${DEVNET_BEARER_TOKEN}`, "content-type": "application/json" },
    body,
  });
  const text = await res.text();
  return { status: res.status, text, body: text ? JSON.parse(text) : undefined };
}

const u64Service = (chain: string, digest: string) =>
  `{"name":"u64","workflows":{"manual":{"trigger":"manual","component":{"source":{"digest":"${digest}"},` +
  `"permissions":{"allowed_http_hosts":"none","file_system":false,"raw_sockets":false,"dns_resolution":false},` +
  `"fuel_limit":18446744073709551615,"time_limit_seconds":30,"config":{},"env_keys":[]},"submit":"none"}},` +
  `"status":"active","manager":{"evm":{"chain":"${chain}","address":"0x${"77".repeat(20)}"}}}`;

describe("services as WAVS, on a running node", () => {
  const manager = () => ({
    evm: { chain: running!.devnet.chain.key, address: running!.devnet.contracts.service_manager },
  });

  it("409s a manager that is already registered", async () => {
    const res = await call("POST", "/services", JSON.stringify({ service_manager: manager() }));
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("service_exists");
  });

  it("404s an address that is not a service manager, with or without code", async () => {
    for (const address of [running!.devnet.contracts.trigger, `0x${"99".repeat(20)}`]) {
      const res = await call(
        "POST",
        "/services",
        JSON.stringify({ service_manager: { evm: { ...manager().evm, address } } }),
      );
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe("unknown_manager");
    }
  });

  it("serves one service by chain and address", async () => {
    const { chain, address } = manager().evm;
    const res = await call("GET", `/services/${chain}/${address}`);
    expect(res.status).toBe(200);
    expect(res.body.manager.evm.address).toBe(address.toLowerCase());
  });

  it("registers saved JSON directly and keeps u64 values exact through D1", async () => {
    const digest = (await call("GET", "/services")).body.component_digests[0];
    const text = u64Service(running!.devnet.chain.key, digest);
    const { hash } = (await call("POST", "/dev/services", text)).body;
    expect((await call("POST", `/dev/services/${hash}`)).status).toBe(204);
    expect((await call("POST", `/dev/services/${hash}`)).status).toBe(409);
    const read = await call("GET", `/services/${running!.devnet.chain.key}/0x${"77".repeat(20)}`);
    expect(read.text).toContain('"fuel_limit":18446744073709551615');
  });

  it("deletes services named by manager", async () => {
    const body = JSON.stringify({
      service_managers: [{ evm: { chain: running!.devnet.chain.key, address: `0x${"77".repeat(20)}` } }],
    });
    expect((await call("DELETE", "/services", body)).status).toBe(204);
    expect((await call("DELETE", "/services", body)).status).toBe(404);
    expect((await call("GET", "/services")).body.service_ids).toHaveLength(1);
  });
});

describe("a restarted node remembers everything", () => {
  it("keeps services, key indexes, cursors and tasks across a restart on the same state", async () => {
    const { devnet } = running!;
    const { triggerId } = await addTrigger({
      rpcUrl: devnet.chain.rpc_url,
      account: privateKeyToAccount(devnet.accounts.trigger_private_key),
      trigger: devnet.contracts.trigger,
      data: new TextEncoder().encode('{"x":5}'),
    });
    const result = await waitForResult({ rpcUrl: devnet.chain.rpc_url, submit: devnet.contracts.submit, triggerId });
    expect(result.data).toBe('{"y":25}');
    // Index 2 went to the deleted u64 service (keys stay reserved); a new one takes 3.
    const other = { service_manager: { evm: { chain: devnet.chain.key, address: `0x${"88".repeat(20)}` } } };
    const before = {
      services: (await call("GET", "/services")).text,
      signer: (
        await call(
          "POST",
          "/services/signer",
          JSON.stringify({
            service_manager: { evm: { chain: devnet.chain.key, address: devnet.contracts.service_manager } },
          }),
        )
      ).body,
      other: (await call("POST", "/services/signer", JSON.stringify(other))).body,
      task: (await call("GET", `/tasks/${result.eventId}`)).body,
      cursor: (await call("GET", "/health")).body.pollers[devnet.chain.key].next_block,
    };
    expect(before.signer.secp256k1.hd_index).toBe(1);
    expect(before.other.secp256k1.hd_index).toBe(3);
    expect(before.task.status).toBe("landed");
    expect(before.cursor).toBeGreaterThan(0);

    // Stop everything (the devnet's node included), then start a fresh node on the same state.
    const chains = JSON.stringify([
      { key: devnet.chain.key, chain_id: devnet.chain.chain_id, rpc_url: devnet.chain.rpc_url, confirmations: 0 },
    ]);
    await running!.stop();
    running = undefined;
    const restarted = await startNode({
      stateDir,
      secrets: {
        WAVS_SIGNING_MNEMONIC: DEVNET_OPERATOR_MNEMONIC,
        WAVS_AGGREGATOR_EVM_CREDENTIAL: DEVNET_OPERATOR_MNEMONIC,
        WAVS_BEARER_TOKEN: DEVNET_BEARER_TOKEN,
      },
      vars: { CHAINS: chains },
    });
    try {
      const get = async (path: string, body?: unknown) => {
        const res = await fetch(`${restarted.url}${path}`, {
          method: body ? "POST" : "GET",
          headers: { authorization: `Bearer ${DEVNET_BEARER_TOKEN}`, "content-type": "application/json" },
          body: body ? JSON.stringify(body) : undefined,
        });
        return { text: await res.text(), status: res.status };
      };
      expect((await get("/services")).text).toBe(before.services);
      const signer = await get("/services/signer", {
        service_manager: { evm: { chain: devnet.chain.key, address: devnet.contracts.service_manager } },
      });
      expect(JSON.parse(signer.text)).toEqual(before.signer);
      expect(JSON.parse((await get("/services/signer", other)).text)).toEqual(before.other);
      expect(JSON.parse((await get(`/tasks/${result.eventId}`)).text)).toEqual(before.task);
      // The chain is gone (anvil stopped), yet the cursor is read back from D1. The devnet's poll
      // ticker may have moved it once more between our read and the stop: never backwards.
      const health = JSON.parse((await get("/health")).text);
      expect(health.pollers[devnet.chain.key].next_block).toBeGreaterThanOrEqual(before.cursor);
    } finally {
      await restarted.stop();
    }
  });
});
