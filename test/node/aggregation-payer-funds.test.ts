/**
 * The paying key runs dry mid-burst (WAVS's nonce queue got stuck in production on exactly this):
 * three nodes, a burst of triggers, and every node's paying key set to almost nothing after the
 * first few. The chain refuses their transactions; the tasks wait (held, no nonce taken, no
 * failure), and once the keys are funded again every event lands exactly once, counted from the
 * chain, with no nonce gap left behind.
 */
import { writeFile } from "node:fs/promises";
import { createPublicClient, createTestClient, http, parseEther } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addTrigger, nodeApi, startDevnet, type RunningDevnet, waitForResult } from "../../devnet/index";
import { eventually, readHandlerTxsByEvent } from "./aggregation-helpers";

/**
 * Short timers (wrangler.toml documents each): a refused send is asked again after 1 s instead of
 * 15 s, so the test waits seconds for the keys' return, not minutes.
 */
const FAST_TIMERS = {
  SUBMIT_REFUSED_RETRY_MS: "1000",
  AGGREGATOR_RETRY_MS: "500",
  AGGREGATOR_RECHECK_MS: "2000",
  SUBMISSION_RETRY_MAX_SECONDS: "4",
};
const BURST = 12;
const BEFORE_DRAIN = 4;
let running: RunningDevnet;
const logs: string[] = [];

beforeAll(async () => {
  running = await startDevnet({
    anvilPort: 0,
    nodePort: 0,
    operators: 3,
    aggregatorGraceMs: 3_000,
    nodeVars: FAST_TIMERS,
    pollIntervalMs: 1_000,
    onLog: (l) => logs.push(l),
  });
}, 300_000);
afterAll(async () => {
  await running?.stop();
  if (process.env.AGGREGATION_TEST_LOG) await writeFile(`${process.env.AGGREGATION_TEST_LOG}.funds`, logs.join("\n"));
}, 60_000);

const rpc = () => running.devnet.chain.rpc_url;
const client = () => createPublicClient({ transport: http(rpc()) });
const anvil = () => createTestClient({ mode: "anvil", transport: http(rpc()) });
const fire = async (x: number) =>
  (
    await addTrigger({
      rpcUrl: rpc(),
      account: privateKeyToAccount(running.devnet.accounts.trigger_private_key),
      trigger: running.devnet.contracts.trigger,
      data: new TextEncoder().encode(`{"x":${x}}`),
    })
  ).triggerId;
const setPayerBalances = (wei: bigint) =>
  Promise.all(running.nodes.map((n) => anvil().setBalance({ address: n.submitter, value: wei })));

type Task = { eventId: string; status: string };
type Timeline = { steps: { step: string; detail?: Record<string, unknown> }[] };
const tasksOn = (i: number) =>
  nodeApi(running.devnet.nodes[i]!.url, "x")
    .get<{ tasks: Task[] }>(`/tasks?limit=100`)
    .then((r) => r.tasks);

describe("the paying key runs out of funds mid-burst", () => {
  it("holds the tasks without failing them, and lands every event exactly once after funding", async () => {
    const xs = Array.from({ length: BURST }, (_, i) => 200 + i);
    const triggerIds: bigint[] = [];
    for (const x of xs.slice(0, BEFORE_DRAIN)) triggerIds.push(await fire(x));
    // Dry: not even one transaction's fee (some of the first few may have gone out already).
    await setPayerBalances(1_000n);
    for (const x of xs.slice(BEFORE_DRAIN)) triggerIds.push(await fire(x));

    // The chain refuses the sends: some task says it is held for that reason, and none fails.
    const held = await eventually(
      async () => {
        for (const i of [0, 1, 2])
          for (const task of await tasksOn(i)) {
            const timeline = await nodeApi(running.devnet.nodes[i]!.url, "x").get<Timeline>(`/tasks/${task.eventId}`);
            const step = timeline.steps.find((s) => s.step === "tx_held");
            if (step) return step.detail;
          }
        return undefined;
      },
      (detail) => detail !== undefined,
      180_000,
      1_000,
    );
    expect(String(held!.reason)).toMatch(/refused.*insufficient funds/i);
    await new Promise((r) => setTimeout(r, 5_000)); // several retries, all refused
    const landedWhileDry = await readHandlerTxsByEvent(running.devnet);
    expect(landedWhileDry.size).toBeLessThan(BURST);
    for (const i of [0, 1, 2]) expect((await tasksOn(i)).filter((t) => t.status === "failed")).toEqual([]);

    await setPayerBalances(parseEther("100"));
    const results = await Promise.all(
      triggerIds.map((triggerId) =>
        waitForResult({ rpcUrl: rpc(), submit: running.devnet.contracts.submit, triggerId, timeoutMs: 300_000 }),
      ),
    );
    expect(results.map((r) => r.data)).toEqual(xs.map((x) => `{"y":${x * x}}`));
    // A late standby or a retry that forgot it had sent would show up as a second transaction by now.
    await new Promise((r) => setTimeout(r, 10_000));
    const byEvent = await readHandlerTxsByEvent(running.devnet);
    expect(results.map((r) => byEvent.get(r.eventId.toLowerCase())?.length ?? 0)).toEqual(xs.map(() => 1));
    expect([...byEvent].filter(([, txs]) => txs.length !== 1)).toEqual([]);
    // No refused send left a nonce gap behind: nothing of the keys' is stuck in the pool.
    for (const n of running.nodes) {
      const [mined, pending] = await Promise.all([
        client().getTransactionCount({ address: n.submitter, blockTag: "latest" }),
        client().getTransactionCount({ address: n.submitter, blockTag: "pending" }),
      ]);
      expect(pending).toBe(mined);
    }
    for (const i of [0, 1, 2]) expect((await tasksOn(i)).filter((t) => t.status === "failed")).toEqual([]);
  }, 900_000);
});
