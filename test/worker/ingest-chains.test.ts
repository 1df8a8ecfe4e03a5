import { createExecutionContext, env, SELF } from "cloudflare:test";
import { describe, expect, inject, it } from "vitest";
import { bytesToHex } from "viem";
import { createApp } from "../../src/api/app";
import { batchMessages, MAX_BATCH_BYTES, MAX_BATCH_MESSAGES } from "../../src/ingest/enqueue-events";
import { isRangeLimitError } from "../../src/ingest/get-logs";
import { parseChains } from "../../src/config";
import type { TriggerMessage } from "../../src/ingest/trigger-message";
import { addChainWithoutCheck } from "./chain-fixtures";

// anvil on chain 4242 (source-servers.global.ts); it answers on "/" only, so keys go in the query
const anvil = inject("anvilRpcUrl");

const json = { authorization: "Bearer test-token", "content-type": "application/json" };

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = json) {
  const res = await SELF.fetch(`http://node${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, text };
}

const addChain = (id: number, evm: Record<string, unknown>) => ({
  chain: `evm:${id}`,
  config: { evm: { chain_id: id, ...evm } },
});

describe("POST /dev/chains (WAVS's AddChainRequest)", () => {
  it("adds a chain with failover endpoints, lists it with credentials stripped, and refuses it twice", async () => {
    // the runtime is shared: another file (api-services) may have added this chain id before
    await call("DELETE", "/dev/chains/evm:4242");
    const host = new URL(anvil).host;
    const body = addChain(4242, {
      http_endpoint: `http://user:secret@${host}/?key=API-KEY-1`,
      http_endpoints: [`http://${host}/?key=API-KEY-2`],
      ws_endpoints: [],
      confirmations: 3,
      poll_range: 100,
    });
    expect((await call("POST", "/dev/chains", body)).status).toBe(200);

    const listed = await call("GET", "/dev/chains");
    expect(listed.body.chains).toContainEqual({
      chain: "evm:4242",
      chain_id: "4242",
      http_endpoints: [`http://${host}`, `http://${host}`],
      confirmations: 3,
      poll_range: 100,
    });
    expect(listed.text).not.toContain("API-KEY");
    expect(listed.text).not.toContain("secret");

    const again = await call("POST", "/dev/chains", body);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("chain_exists");
  });

  it("checks every endpoint with eth_chainId: another chain's RPC is 422, a silent one 502; nothing is saved", async () => {
    const other = await call("POST", "/dev/chains", addChain(31337, { http_endpoint: `${anvil}/?key=SECRET-KEY` }));
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe("chain_id_mismatch");
    expect(other.body.error.message).toMatch(/is chain 4242, not 31337/);
    expect(other.text).not.toContain("SECRET-KEY");

    const silent = await call(
      "POST",
      "/dev/chains",
      addChain(4244, { http_endpoint: "http://127.0.0.1:9/SECRET-KEY" }),
    );
    expect(silent.status).toBe(502);
    expect(silent.body.error.code).toBe("chain_unreachable");
    expect(silent.text).not.toContain("SECRET-KEY");
    const chains = (await call("GET", "/dev/chains")).body.chains.map((c: { chain: string }) => c.chain);
    expect(chains).not.toContain("evm:31337");
    expect(chains).not.toContain("evm:4244");
  });

  it("refuses private, loopback and metadata endpoints unless ALLOW_PRIVATE_NETWORK_URIS", async () => {
    const app = createApp();
    const strict = { ...env, ALLOW_PRIVATE_NETWORK_URIS: "false" };
    for (const endpoint of [
      anvil,
      "http://localhost:8545",
      "http://169.254.169.254/latest",
      "http://[::1]:8545",
      "http://10.0.0.5:8545",
    ]) {
      const req = new Request("http://node/dev/chains", {
        method: "POST",
        headers: json,
        body: JSON.stringify(addChain(4243, { http_endpoint: endpoint })),
      });
      const res = await app.fetch(req, strict, createExecutionContext());
      expect(res.status, endpoint).toBe(422);
      expect(((await res.json()) as { error: { code: string } }).error.code, endpoint).toBe("chain_not_allowed");
    }
  });
});

describe("DELETE /dev/chains/{key}", () => {
  it("removes a chain added at run time, 404s an unknown one, and needs the bearer token", async () => {
    await addChainWithoutCheck(4545);
    expect((await call("DELETE", "/dev/chains/evm:4545", undefined, {})).status).toBe(401);
    expect((await call("DELETE", "/dev/chains/evm:4545")).status).toBe(204);
    expect((await call("GET", "/dev/chains")).body.chains.map((c: { chain: string }) => c.chain)).not.toContain(
      "evm:4545",
    );
    const again = await call("DELETE", "/dev/chains/evm:4545");
    expect(again.status).toBe(404);
    expect(again.body.error.code).toBe("chain_not_found");
    expect((await call("DELETE", "/dev/chains/not a key")).status).toBe(422);
  });

  it("leaves chains from the CHAINS var alone (409)", async () => {
    const app = createApp();
    const configured = {
      ...env,
      CHAINS: JSON.stringify([{ key: "evm:4646", chain_id: 4646, rpc_url: "https://rpc.example" }]),
    };
    const res = await app.fetch(
      new Request("http://node/dev/chains/evm:4646", { method: "DELETE", headers: json }),
      configured,
      createExecutionContext(),
    );
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("chain_configured");
  });

  it("refuses bad requests with 422 naming the field, without echoing URLs", async () => {
    const noEndpoint = await call("POST", "/dev/chains", addChain(5, { ws_endpoints: ["wss://x"] }));
    expect(noEndpoint.status).toBe(422);
    expect(noEndpoint.body.error.message).toContain("config.evm.http_endpoint");

    const mismatch = await call("POST", "/dev/chains", {
      chain: "evm:6",
      config: { evm: { chain_id: 7, http_endpoint: "https://a.example" } },
    });
    expect(mismatch.status).toBe(422);
    expect(mismatch.body.error.message).toContain("chain");

    const notHttp = await call("POST", "/dev/chains", addChain(8, { http_endpoint: "ftp://a.example/KEY" }));
    expect(notHttp.status).toBe(422);

    const unauthorised = await call("POST", "/dev/chains", addChain(9, { http_endpoint: "https://a.example" }), {
      "content-type": "application/json",
    });
    expect(unauthorised.status).toBe(401);
  });

  it("reports an unreachable chain as WAVS does: unhealthy with an error, 503, no URL secrets", async () => {
    await addChainWithoutCheck(4343, "http://127.0.0.1:9/key/SECRET-KEY");
    const res = await call("GET", "/health");
    expect(res.status).toBe(503);
    expect(res.body.chains["evm:4343"]).toEqual({ unhealthy: { error: expect.any(String) } });
    expect(res.body.pollers["evm:4343"]).toMatchObject({ next_block: null, confirmations: 0, rpc_endpoints: 1 });
    expect(res.text).not.toContain("SECRET-KEY");
    expect(typeof res.body.dropped_events).toBe("number");
  });
});

describe("chain configuration", () => {
  it("accepts rpc_url or rpc_urls, merges them in order, and refuses duplicates and bad keys", () => {
    const [chain] = parseChains(
      JSON.stringify([{ key: "evm:1", chain_id: 1, rpc_url: "https://a.example", rpc_urls: ["https://b.example"] }]),
    );
    expect(chain).toMatchObject({
      rpc_url: "https://a.example",
      rpc_urls: ["https://a.example", "https://b.example"],
      confirmations: 0,
      poll_range: 500,
    });
    expect(() => parseChains('[{"key":"evm:1","chain_id":1}]')).toThrow(/rpc_url/);
    expect(() => parseChains('[{"key":"evm:2","chain_id":1,"rpc_url":"https://a.example"}]')).toThrow(/evm:<chain_id>/);
    const one = { key: "evm:1", chain_id: 1, rpc_url: "https://a.example" };
    expect(() => parseChains(JSON.stringify([one, one]))).toThrow(/twice/);
  });
});

describe("eth_getLogs range errors", () => {
  it("recognises providers' range and size refusals, and nothing else", () => {
    const rpc = (code: number, details: string) => Object.assign(new Error("RPC Request failed."), { code, details });
    expect(
      isRangeLimitError(
        rpc(-32602, "Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range"),
      ),
    ).toBe(true);
    expect(isRangeLimitError(rpc(-32005, "query returned more than 10000 results"))).toBe(true);
    expect(isRangeLimitError(new Error("x", { cause: rpc(-32000, "block range is too wide") }))).toBe(true);
    expect(isRangeLimitError(rpc(-32000, "header not found"))).toBe(false);
    expect(isRangeLimitError(new Error("fetch failed"))).toBe(false);
  });
});

describe("queue batches", () => {
  const message = (i: number, dataBytes: number): TriggerMessage => ({
    type: "trigger",
    version: 1,
    serviceId: "s",
    workflowId: "w",
    eventKey: `k${i}`,
    data: { Raw: new Uint8Array(dataBytes) },
    source: "poller",
    seenAt: 0,
  });

  it("keeps every sendBatch within 100 messages and 256 KB, in order, losing nothing", () => {
    const small = Array.from({ length: 1050 }, (_, i) => message(i, 10));
    const smallBatches = batchMessages(small);
    expect(smallBatches.map((b) => b.length)).toEqual([...Array(10).fill(MAX_BATCH_MESSAGES), 50]);

    const big = Array.from({ length: 30 }, (_, i) => message(i, 20_000)); // ~40 KB each as hex
    const bigBatches = batchMessages(big);
    expect(bigBatches.length).toBeGreaterThan(1);
    for (const b of bigBatches) {
      expect(
        JSON.stringify(b.map((m) => ({ ...m, data: bytesToHex((m.data as { Raw: Uint8Array }).Raw).slice(2) }))).length,
      ).toBeLessThanOrEqual(MAX_BATCH_BYTES);
    }
    expect(bigBatches.flat().map((m) => m.eventKey)).toEqual(big.map((m) => m.eventKey));
  });
});
