/**
 * The workflow's aggregator component decides: one node under `wrangler dev` whose service
 * aggregates with relay-aggregator (test/fixtures/components), configured to ask for a timer, to
 * submit with its own gas price from the timer callback, and to skip one payload. Checks that
 * process-input runs per submission, the timer fires through the Durable Object alarm (also
 * across a restart), the action's target and gas price reach the chain, and handle-submit-callback
 * gets the transaction hash or the error.
 */
import { writeFile } from "node:fs/promises";
import { createPublicClient, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addTrigger } from "../../devnet/index";
import { DEVNET_OPERATOR_MNEMONICS, nodeApi, startDevnet, type RunningDevnet } from "../../devnet/index";
import { waitForResult } from "../../devnet/index";
import { eventually, postSignedSubmission, readHandlerTxs } from "./aggregation-helpers";

const GAS_PRICE = 3_000_000_007n;
let running: RunningDevnet;
const logs: string[] = [];

beforeAll(async () => {
  running = await startDevnet({
    anvilPort: 0,
    nodePort: 0,
    pollIntervalMs: 1_000,
    // y = 9 (x = 3) is skipped; everything else waits 3 s, then submits at GAS_PRICE.
    aggregator: {
      component: "relay-aggregator",
      config: { delay_secs: "3", gas_price: GAS_PRICE.toString(), skip_payload: '{"y":9}' },
    },
    onLog: (l) => logs.push(l),
  });
}, 240_000);
afterAll(async () => {
  await running?.stop();
  if (process.env.AGGREGATION_TEST_LOG)
    await writeFile(`${process.env.AGGREGATION_TEST_LOG}.component`, logs.join("\n"));
}, 60_000);

const rpc = () => running.devnet.chain.rpc_url;
const client = () => createPublicClient({ transport: http(rpc()) });
const fire = async (x: number) =>
  (
    await addTrigger({
      rpcUrl: rpc(),
      account: privateKeyToAccount(running.devnet.accounts.trigger_private_key),
      trigger: running.devnet.contracts.trigger,
      data: new TextEncoder().encode(`{"x":${x}}`),
    })
  ).triggerId;

type Step = { step: string; at: number; detail?: Record<string, unknown> };
type Task = { status: string; txHash: string | null; error: string | null; steps: Step[] };
const taskOf = (eventId: string) => nodeApi(running.devnet.nodes[0]!.url, "x").get<Task>(`/tasks/${eventId}`);

const handlerTxs = (eventId: string) => readHandlerTxs(running.devnet, eventId);

describe("an aggregator component with a timer and its own gas price", () => {
  it("runs process-input, fires the timer, submits where and at the price the component says, and calls back with the hash", async () => {
    const { data, eventId } = await waitForResult({
      rpcUrl: rpc(),
      submit: running.devnet.contracts.submit,
      triggerId: await fire(4),
      timeoutMs: 90_000,
    });
    expect(data).toBe('{"y":16}');
    const task = await eventually(
      () => taskOf(eventId),
      (t) => t.steps.some((s) => s.step === "submit_callback"),
    );
    const step = (name: string) => task.steps.find((s) => s.step === name);
    expect(step("aggregator_input")?.detail?.actions).toEqual([{ timer_ms: 3000 }]);
    expect(step("aggregator_timer")?.detail?.actions).toEqual([
      {
        submit: {
          chain: running.devnet.chain.key,
          address: running.devnet.contracts.submit.toLowerCase(),
          gas_price: GAS_PRICE.toString(),
        },
      },
    ]);
    // The timer really waited: the signature was counted only when it fired.
    expect(step("signature_received")!.at - step("aggregator_input")!.at).toBeGreaterThanOrEqual(2_900);
    const txs = await handlerTxs(eventId);
    expect(txs).toHaveLength(1);
    const tx = await client().getTransaction({ hash: txs[0]! });
    expect(tx.maxFeePerGas).toBe(GAS_PRICE);
    expect(step("submit_callback")?.detail).toMatchObject({
      tx_hash: txs[0],
      logs: [`info: submitted in evm tx ${txs[0]!.slice(2)}`],
    });
  });

  it("counts no signature the component gives no action", async () => {
    const triggerId = await fire(3);
    await expect(
      waitForResult({ rpcUrl: rpc(), submit: running.devnet.contracts.submit, triggerId, timeoutMs: 12_000 }),
    ).rejects.toThrow(/no result/);
    const tasks = await nodeApi(running.devnet.nodes[0]!.url, "x").get<{ tasks: { eventId: string }[] }>(
      "/tasks?limit=5",
    );
    const skipped = await Promise.all(tasks.tasks.map((t) => taskOf(t.eventId)));
    const mine = skipped.find((t) =>
      t.steps.some(
        (s) =>
          s.step === "aggregator_input" &&
          Array.isArray(s.detail?.actions) &&
          (s.detail.actions as unknown[]).length === 0,
      ),
    );
    expect(mine, JSON.stringify(skipped.map((t) => t.steps.map((s) => s.step)))).toBeDefined();
    expect(mine!.steps.some((s) => s.step === "signature_received")).toBe(false);
  });

  it("keeps a pending timer across a restart of the node", async () => {
    const triggerId = await fire(5);
    // Wait for process-input to ask for the timer, then take the node down before it fires.
    const api = nodeApi(running.devnet.nodes[0]!.url, "x");
    await eventually(
      () =>
        api
          .get<{ tasks: { eventId: string }[] }>("/tasks?limit=3")
          .then((r) => Promise.all(r.tasks.map((t) => taskOf(t.eventId)))),
      (ts) =>
        ts.some(
          (t) =>
            t.steps.some(
              (s) => s.step === "aggregator_input" && JSON.stringify(s.detail?.actions) === '[{"timer_ms":3000}]',
            ) && !t.steps.some((s) => s.step === "aggregator_timer"),
        ),
      60_000,
    );
    await running.nodes[0]!.stop();
    await new Promise((r) => setTimeout(r, 4_000));
    await running.nodes[0]!.start();
    const { data, eventId } = await waitForResult({
      rpcUrl: rpc(),
      submit: running.devnet.contracts.submit,
      triggerId,
      timeoutMs: 90_000,
    });
    expect(data).toBe('{"y":25}');
    expect(await handlerTxs(eventId)).toHaveLength(1);
  });

  it("calls back with the decoded error when the handler reverts", async () => {
    const payload = "0xdeadbeef"; // not an abi-encoded DataWithId: SimpleSubmit reverts
    const { res, envelope } = await postSignedSubmission(running.devnet, 0xc3, payload);
    expect(res.status).toBe(202);
    expect(((await res.json()) as { status: string }).status).toBe("timer");
    const task = await eventually(
      () => taskOf(envelope.eventId),
      (t) => t.steps.some((s) => s.step === "submit_callback"),
      60_000,
    );
    expect(task.status).toBe("failed");
    const callback = task.steps.find((s) => s.step === "submit_callback")!;
    expect(String(callback.detail?.error)).toMatch(/revert|Revert/);
    expect((callback.detail?.logs as string[] | undefined)?.[0]).toMatch(/^warn: submission failed: /);
    expect(await handlerTxs(envelope.eventId)).toHaveLength(0);
  });

  it("never logs a secret", () => {
    const text = logs.join("\n");
    // the node's own structured lines were captured: a check over no log would pass for nothing
    expect(text).toMatch(/\{"level":"(info|warn)","msg":"[^"]+","subsys":"aggregate"/);
    expect(text).not.toContain(DEVNET_OPERATOR_MNEMONICS[0].split(" ").slice(0, 3).join(" "));
  });
});
