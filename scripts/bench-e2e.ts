/**
 * `npm run bench:e2e`: on a three-operator devnet, fires triggers through SimpleTrigger and prints
 * JSON lines: event → landed latency through the poller (median, p95, max), sustained events per
 * second landing onchain, gas per submission, and transactions per event (must be 1).
 * Options: --count N (default 100), --operators N (default 3), --rate R triggers per second (default 5).
 */
import { createPublicClient, decodeFunctionData, http, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { simpleSubmitAbi } from "../src/chain/abi/simple-submit";
import { wavsHandlerAbi } from "../src/chain/wavs-abi";
import { addTrigger } from "./lib/deploy-contracts";
import { startDevnet } from "./lib/devnet";

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} takes a positive number`);
  return value;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

const count = option("count", 100);
const operators = option("operators", 3);
const rate = option("rate", 5);
const emit = (line: Record<string, unknown>) => console.log(JSON.stringify(line));

const running = await startDevnet({ operators, pollIntervalMs: 500, onStep: (s) => console.error(`• ${s}`) });
const { devnet } = running;
const stop = async () => {
  await running.stop();
};
process.once("SIGINT", () => void stop().then(() => process.exit(130)));

try {
  const client = createPublicClient({ transport: http(devnet.chain.rpc_url) });
  const account = privateKeyToAccount(devnet.accounts.trigger_private_key);
  const fired = new Map<bigint, number>();
  const landed = new Map<bigint, number>();
  const startBlock = await client.getBlockNumber();

  let firing = true;
  const firer = (async () => {
    for (let i = 0; i < count; i++) {
      const started = Date.now();
      const { triggerId } = await addTrigger({
        rpcUrl: devnet.chain.rpc_url,
        account,
        trigger: devnet.contracts.trigger,
        data: new TextEncoder().encode(`{"x":${i + 2}}`),
      });
      fired.set(triggerId, Date.now()); // the event exists onchain from here on
      await new Promise((r) => setTimeout(r, Math.max(0, 1000 / rate - (Date.now() - started))));
    }
    firing = false;
  })();

  const deadline = Date.now() + 600_000;
  while ((firing || landed.size < fired.size) && Date.now() < deadline) {
    for (const [triggerId] of fired) {
      if (landed.has(triggerId)) continue;
      const ok = await client.readContract({ address: devnet.contracts.submit, abi: simpleSubmitAbi, functionName: "isValidTriggerId", args: [triggerId] });
      if (ok) landed.set(triggerId, Date.now());
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await firer;

  const latencies = [...landed].map(([id, at]) => at - fired.get(id)!).sort((a, b) => a - b);
  const firstFired = Math.min(...fired.values());
  const lastLanded = Math.max(...landed.values());
  emit({
    bench: "e2e",
    metric: "event_to_landed_ms",
    path: "poller",
    operators,
    fired: fired.size,
    landed: landed.size,
    median: quantile(latencies, 0.5),
    p95: quantile(latencies, 0.95),
    max: latencies.at(-1),
  });
  emit({
    bench: "e2e",
    metric: "sustained_events_per_s",
    operators,
    offered_per_s: rate,
    value: Number(((landed.size * 1000) / (lastLanded - firstFired)).toFixed(2)),
  });

  // Gas and transactions per event, read back from the chain.
  const perEvent = new Map<string, number>();
  const gas: number[] = [];
  const latest = await client.getBlockNumber();
  for (let n = startBlock + 1n; n <= latest; n++) {
    const block = await client.getBlock({ blockNumber: n, includeTransactions: true });
    for (const tx of block.transactions) {
      if (tx.to?.toLowerCase() !== devnet.contracts.submit.toLowerCase()) continue;
      const call = decodeFunctionData({ abi: wavsHandlerAbi, data: tx.input });
      const eventId = (call.args![0] as { eventId: Hex }).eventId;
      perEvent.set(eventId, (perEvent.get(eventId) ?? 0) + 1);
      gas.push(Number((await client.getTransactionReceipt({ hash: tx.hash })).gasUsed));
    }
  }
  gas.sort((a, b) => a - b);
  emit({ bench: "e2e", metric: "gas_per_submission", operators, count: gas.length, median: quantile(gas, 0.5), min: gas[0], max: gas.at(-1) });
  emit({ bench: "e2e", metric: "txs_per_event", operators, events: perEvent.size, max: Math.max(...perEvent.values()) });
} finally {
  await stop();
}
