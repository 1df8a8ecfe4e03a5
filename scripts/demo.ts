/**
 * `npm run demo`: brings the local network up, fires one trigger, waits for the squared result
 * onchain, prints it with the event id, tx hash and latency, and shuts everything down.
 * Exits non-zero with a one-line reason on failure.
 */
import { privateKeyToAccount } from "viem/accounts";
import { addTrigger } from "../devnet/index";
import { nodeApi, startDevnet, writeDevnetJson, type RunningDevnet } from "../devnet/index";
import { waitForResult } from "../devnet/index";

const X = 12;
const began = performance.now();
let running: RunningDevnet | undefined;
const timeout = setTimeout(() => fail(new Error("the demo took longer than 90 s")), 90_000);

try {
  running = await startDevnet({ onStep: (step) => console.log(`• ${step}`) });
  const { devnet } = running;
  await writeDevnetJson(devnet);
  console.log(`• network up in ${((performance.now() - began) / 1000).toFixed(1)} s; firing addTrigger('{"x":${X}}')`);

  const { triggerId, txHash: triggerTx } = await addTrigger({
    rpcUrl: devnet.chain.rpc_url,
    account: privateKeyToAccount(devnet.accounts.trigger_private_key),
    trigger: devnet.contracts.trigger,
    data: new TextEncoder().encode(`{"x":${X}}`),
  });
  const fired = performance.now();
  const result = await waitForResult({ rpcUrl: devnet.chain.rpc_url, submit: devnet.contracts.submit, triggerId });
  const latency = performance.now() - fired;

  const node = devnet.nodes[0]!;
  const api = nodeApi(node.url, node.bearer_token);
  type Task = { txHash: string | null; status: string };
  // The result is readable onchain a moment before the node records the receipt.
  let task = await api.get<Task>(`/tasks/${result.eventId}`);
  for (let i = 0; i < 50 && task.status !== "landed"; i++) {
    await new Promise((r) => setTimeout(r, 100));
    task = await api.get<Task>(`/tasks/${result.eventId}`);
  }
  const expected = JSON.stringify({ y: X * X });
  console.log(`
  trigger ${triggerId}   ${triggerTx}
  result onchain      ${result.data}
  event id            ${result.eventId}
  submission tx       ${task.txHash}
  event → receipt     ${Math.round(latency)} ms
  total               ${((performance.now() - began) / 1000).toFixed(1)} s`);
  if (result.data !== expected) throw new Error(`expected ${expected} onchain, got ${result.data}`);
  await running.stop();
  clearTimeout(timeout);
  process.exit(0);
} catch (e) {
  await fail(e as Error);
}

async function fail(e: Error): Promise<never> {
  console.error(`✗ demo failed: ${e.message.split("\n")[0]}`);
  await running?.stop();
  process.exit(1);
}
