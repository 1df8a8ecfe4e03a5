/**
 * The foundation's full path on real parts: anvil, the contracts, the node under `wrangler dev`
 * with local D1/R2/Queues/DOs and the Worker Loader, and the square component built from source.
 */
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addTrigger } from "../../devnet/index";
import { nodeApi, startDevnet, type RunningDevnet } from "../../devnet/index";
import { waitForResult } from "../../devnet/index";

let running: RunningDevnet;
const logs: string[] = [];

beforeAll(async () => {
  // Random ports: other test files run devnets at once.
  running = await startDevnet({ anvilPort: 0, nodePort: 0, pollIntervalMs: 1_000, onLog: (line) => logs.push(line) });
}, 120_000);
afterAll(async () => {
  await running?.stop();
});

const fire = (x: number) =>
  addTrigger({
    rpcUrl: running.devnet.chain.rpc_url,
    account: privateKeyToAccount(running.devnet.accounts.trigger_private_key),
    trigger: running.devnet.contracts.trigger,
    data: new TextEncoder().encode(`{"x":${x}}`),
  });

describe("a chain event becomes a signed result onchain", () => {
  it("squares x and lands it through SimpleSubmit, with a full task timeline", async () => {
    const { triggerId } = await fire(9);
    const result = await waitForResult({
      rpcUrl: running.devnet.chain.rpc_url,
      submit: running.devnet.contracts.submit,
      triggerId,
    });
    expect(result.data).toBe('{"y":81}');

    // The result is readable onchain a moment before the node records the receipt: wait for it.
    const node = running.devnet.nodes[0]!;
    const api = nodeApi(node.url, node.bearer_token);
    type Task = { status: string; txHash: string; steps: { step: string }[] };
    let task = await api.get<Task>(`/tasks/${result.eventId}`);
    for (let i = 0; i < 100 && task.status !== "landed"; i++) {
      await new Promise((r) => setTimeout(r, 100));
      task = await api.get<Task>(`/tasks/${result.eventId}`);
    }
    expect(task.status).toBe("landed");
    expect(task.txHash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(task.steps.map((s) => s.step)).toEqual([
      "executed",
      "signature_received",
      "quorum_reached",
      "tx_sent",
      "landed",
    ]);
  });

  it("handles several triggers in one block range, each once", async () => {
    const fired = [await fire(2), await fire(3), await fire(1000)];
    const results = await Promise.all(
      fired.map(({ triggerId }) =>
        waitForResult({ rpcUrl: running.devnet.chain.rpc_url, submit: running.devnet.contracts.submit, triggerId }),
      ),
    );
    expect(results.map((r) => r.data)).toEqual(['{"y":4}', '{"y":9}', '{"y":1000000}']);
    expect(new Set(results.map((r) => r.eventId)).size).toBe(3);
  });

  it("never logs a secret", () => {
    const text = logs.join("\n");
    // the node's own structured lines were captured: a check over no log would pass for nothing
    expect(text).toMatch(/\{"level":"info","msg":"signature aggregated","subsys":"aggregate"/);
    expect(text).not.toContain("lesson impose canal");
    expect(text).not.toMatch(/0x[0-9a-f]{64}.*private/i);
  });
});

describe("bad input gets a clear JSON error", () => {
  const url = () => running.devnet.nodes[0]!.url;
  const token = () => running.devnet.nodes[0]!.bearer_token;

  it("answers an unknown route with a JSON 404", async () => {
    const res = await fetch(`${url()}/no/such/route`);
    expect(res.status).toBe(404);
    expect((await errorOf(res)).code).toBe("not_found");
  });

  it("answers malformed JSON with a 400", async () => {
    const res = await fetch(`${url()}/services`, {
      method: "POST",
      headers: { authorization: `Bearer ${token()}`, "content-type": "application/json" },
      body: "{not json",
    });
    expect(res.status).toBe(400);
    const error = await errorOf(res);
    expect(error.code).toBe("invalid_json");
    expect(JSON.stringify(error)).not.toMatch(/at .*\.ts:\d+/);
  });

  it("refuses a mutating route without the bearer token", async () => {
    const res = await fetch(`${url()}/services`, { method: "POST", body: "{}" });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toContain("Bearer");
  });

  it("names the field that is wrong", async () => {
    const res = await fetch(`${url()}/services`, {
      method: "POST",
      headers: { authorization: `Bearer ${token()}`, "content-type": "application/json" },
      body: JSON.stringify({ service_manager: { evm: { chain: "evm:31337", address: "0x12" } } }),
    });
    expect(res.status).toBe(422);
    expect((await errorOf(res)).message).toMatch(/service_manager\.evm\.address/);
  });
});

async function errorOf(res: Response) {
  return ((await res.json()) as { error: { code: string; message: string } }).error;
}
