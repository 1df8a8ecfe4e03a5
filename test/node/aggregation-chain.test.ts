/**
 * The submitting side against a real chain: revert reasons decoded (the manager's errors through
 * the handler), a handler revert recorded in the task's timeline, and a stuck transaction replaced
 * with bumped fees by the ChainSubmitter (anvil with automine off).
 */
import { writeFile } from "node:fs/promises";
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  encodeAbiParameters,
  getAbiItem,
  http,
  type Hex,
} from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { simpleSubmitAbi } from "../../devnet/index";
import { wavsHandlerAbi } from "../../src/chain/wavs-abi";
import { buildSignatureData } from "../../src/aggregate/signature-data";
import { buildEnvelope, signEnvelope } from "../../src/sign/envelope";
import { describeRevert } from "../../src/submit/describe-revert";
import { DEVNET_OPERATOR_MNEMONICS, nodeApi, startDevnet, type RunningDevnet } from "../../devnet/index";
import { postSignedSubmission, readHandlerTxs } from "./aggregation-helpers";

let running: RunningDevnet;
const logs: string[] = [];

beforeAll(async () => {
  running = await startDevnet({
    anvilPort: 0,
    nodePort: 0,
    nodeVars: { TX_STUCK_AFTER_MS: "2000", SUBMIT_MAX_GAS_LIMIT: "1500000" },
    onLog: (l) => logs.push(l),
  });
}, 180_000);
afterAll(async () => {
  await running?.stop();
  if (process.env.AGGREGATION_TEST_LOG) await writeFile(`${process.env.AGGREGATION_TEST_LOG}.chain`, logs.join("\n"));
}, 60_000);

const rpc = () => running.devnet.chain.rpc_url;
const client = () => createPublicClient({ transport: http(rpc()) });
const dataWithId = getAbiItem({ abi: simpleSubmitAbi, name: "getDataWithId" }).outputs;

async function submit(eventByte: number, payload: Hex) {
  const { res, envelope } = await postSignedSubmission(running.devnet, eventByte, payload);
  expect(res.status).toBe(202);
  return envelope;
}

type Task = {
  status: string;
  error: string | null;
  txHash: string | null;
  steps: { step: string; detail?: Record<string, unknown> }[];
};
async function waitForTask(eventId: Hex, ok: (t: Task) => boolean, timeoutMs = 60_000): Promise<Task> {
  const api = nodeApi(running.devnet.nodes[0]!.url, "x");
  const deadline = Date.now() + timeoutMs;
  let last: Task | undefined;
  while (Date.now() < deadline) {
    last = await api.get<Task>(`/tasks/${eventId}`).catch(() => undefined);
    if (last && ok(last)) return last;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`task not settled: ${JSON.stringify(last)}`);
}

/** Runs `body` with anvil's automine off, so that sent transactions wait in the pool; on again after. */
async function withAutomineOff(body: (test: ReturnType<typeof createTestClient>) => Promise<void>): Promise<void> {
  const test = createTestClient({ mode: "anvil", transport: http(rpc()) });
  await test.setAutomine(false);
  try {
    await body(test);
  } finally {
    await test.setAutomine(true);
  }
}

/** Submits a SimpleSubmit result and waits for its task to record `step`; with the tx_sent step's detail. */
async function submitUntilStep(eventByte: number, result: { triggerId: bigint; data: Hex }, step: string) {
  const envelope = await submit(eventByte, encodeAbiParameters(dataWithId, [result]));
  const task = await waitForTask(envelope.eventId, (t) => t.steps.some((s) => s.step === step), 60_000);
  const sent = task.steps.find((s) => s.step === "tx_sent")!.detail!;
  return { envelope, task, sent };
}

const handlerTxs = (eventId: string) => readHandlerTxs(running.devnet, eventId);

describe("revert reasons", () => {
  it("decodes the manager's errors surfacing through the handler", async () => {
    const stranger = mnemonicToAccount(DEVNET_OPERATOR_MNEMONICS[6]);
    const envelope = buildEnvelope(new Uint8Array(20).fill(9), new Uint8Array([1]), null);
    const signatureData = buildSignatureData(
      { [stranger.address]: await signEnvelope(stranger, envelope) },
      Number(await client().getBlockNumber()) - 1,
    );
    const error = await client()
      .simulateContract({
        address: running.devnet.contracts.submit,
        abi: wavsHandlerAbi,
        functionName: "handleSignedEnvelope",
        args: [envelope, signatureData],
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(describeRevert(error)).toBe("SignerNotRegistered()");
  });

  it("records a handler that reverts as a failed task with the reason, and sends nothing", async () => {
    const envelope = await submit(0xa1, "0xdeadbeef"); // not an abi-encoded DataWithId: SimpleSubmit reverts
    const task = await waitForTask(envelope.eventId, (t) => t.status === "failed");
    expect(task.error).toMatch(/revert/i);
    expect(task.steps.map((s) => s.step)).toContain("submit_failed");
    expect(await handlerTxs(envelope.eventId)).toHaveLength(0);
  });
});

describe("the operator's ceilings", () => {
  it("does not send a transaction whose gas limit is over SUBMIT_MAX_GAS_LIMIT, and the task says why", async () => {
    // About a hundred fresh storage slots in SimpleSubmit: some 2M gas, over the node's 1.5M ceiling.
    const big = `0x${"ab".repeat(3_000)}` as Hex;
    const envelope = await submit(0xa2, encodeAbiParameters(dataWithId, [{ triggerId: 454545n, data: big }]));
    const task = await waitForTask(envelope.eventId, (t) => t.status === "failed");
    expect(task.error).toMatch(/not sent: gas limit \d+ exceeds the operator's ceiling SUBMIT_MAX_GAS_LIMIT=1500000/);
    expect(await handlerTxs(envelope.eventId)).toHaveLength(0);
  });
});

describe("ChainSubmitter", () => {
  it("replaces a stuck transaction with bumped fees; exactly one lands", async () => {
    await withAutomineOff(async (test) => {
      const {
        envelope,
        task: replaced,
        sent,
      } = await submitUntilStep(0xb2, { triggerId: 424242n, data: "0x7b2279223a317d" }, "tx_replaced");
      const replacement = replaced.steps.find((s) => s.step === "tx_replaced")!.detail!;
      expect(replacement.tx_hash).not.toBe(sent.tx_hash);
      expect(replacement.replacements).toBeGreaterThanOrEqual(1);
      await test.mine({ blocks: 1 });
      const landed = await waitForTask(envelope.eventId, (t) => t.status === "landed");
      expect(await handlerTxs(envelope.eventId)).toEqual([landed.txHash]);
      // The replacement, not a second transaction: same nonce as the first, higher fees.
      const mined = await client().getTransaction({ hash: landed.txHash as Hex });
      expect(mined.nonce).toBe(sent.nonce);
      expect(landed.txHash).not.toBe(sent.tx_hash);
    });
  });

  it("gives up a transaction whose nonce another sender used, asks again, and sends one new transaction", async () => {
    await withAutomineOff(async (test) => {
      const { envelope, sent } = await submitUntilStep(
        0xb3,
        { triggerId: 434343n, data: "0x7b2279223a347d" },
        "tx_sent",
      );
      // The same key used elsewhere: a self-transfer with the same nonce and far higher fees takes its place.
      const key = mnemonicToAccount("test test test test test test test test test test test junk", { addressIndex: 2 });
      expect(key.address).toBe(running.nodes[0]!.submitter);
      const ours = await client().getTransaction({ hash: sent.tx_hash as Hex });
      const wallet = createWalletClient({ account: key, transport: http(rpc()) });
      await wallet.sendTransaction({
        chain: null,
        to: key.address,
        value: 0n,
        nonce: Number(sent.nonce),
        gas: 21_000n,
        maxFeePerGas: ours.maxFeePerGas! * 20n,
        maxPriorityFeePerGas: ours.maxPriorityFeePerGas! * 20n,
      });
      await test.mine({ blocks: 1 });
      await test.setAutomine(true);
      const landed = await waitForTask(envelope.eventId, (t) => t.status === "landed", 60_000);
      expect(landed.steps.map((s) => s.step)).toContain("tx_lost");
      expect(await handlerTxs(envelope.eventId)).toEqual([landed.txHash]);
      expect(landed.txHash).not.toBe(sent.tx_hash);
    });
  });
});
