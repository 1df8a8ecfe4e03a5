/**
 * `npm run bench:e2e`: on a three-operator devnet, fires triggers through SimpleTrigger and prints
 * JSON lines, per path: event → landed latency (median, p95, max), sustained events per second
 * landing onchain; then gas per submission and transactions per event (must be 1).
 * Two paths, one after the other on the same devnet: "webhook" (each trigger's log POSTed, signed,
 * to every node's /webhooks/bench as an indexer would, the poller off) and "poller" (the nodes'
 * scheduled handler polling the chain every 500 ms).
 * Options: --count N triggers per path (default 100), --operators N (default 3), --rate R triggers
 * per second (default 5), --paths webhook,poller (default both), --logs FILE (every node's log
 * lines, prefixed [nodeI], streamed there; for finding out what happened to an event).
 */
import { createHmac, randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { createPublicClient, decodeFunctionData, http, type Hex, type TransactionReceipt } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { simpleSubmitAbi } from "../src/chain/abi/simple-submit";
import { wavsHandlerAbi } from "../src/chain/wavs-abi";
import { addTrigger } from "./lib/deploy-contracts";
import { startDevnet } from "./lib/devnet";
import { toJsonRpcLog } from "./lib/json-rpc-log";

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} takes a positive number`);
  return value;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

type Path = "webhook" | "poller";
const count = option("count", 100);
const operators = option("operators", 3);
const rate = option("rate", 5);
const pathsArg = process.argv.indexOf("--paths");
const paths = (pathsArg >= 0 ? process.argv[pathsArg + 1]!.split(",") : ["webhook", "poller"]) as Path[];
if (paths.some((p) => p !== "webhook" && p !== "poller")) throw new Error("--paths takes webhook and/or poller");
const logsArg = process.argv.indexOf("--logs");
const logsFile = logsArg >= 0 ? process.argv[logsArg + 1] : undefined;
// Streamed, never held: three nodes under load log gigabytes' worth of strings in a run.
const nodeLogs = logsFile ? createWriteStream(logsFile) : undefined;
const emit = (line: Record<string, unknown>) => console.log(JSON.stringify(line));

const WEBHOOK_SECRET = `bench-${randomUUID()}`;
// The bench drives the poller itself, so that the webhook path runs without it.
const running = await startDevnet({ operators, pollIntervalMs: 0, extraVars: { WEBHOOK_SECRET_BENCH: WEBHOOK_SECRET },
  ...(nodeLogs ? { onLog: (l: string) => void nodeLogs.write(`${new Date().toISOString()} ${l}\n`) } : {}),
  onStep: (s) => console.error(`• ${s}`) });
const { devnet } = running;
let ticker: ReturnType<typeof setInterval> | undefined;
const stop = async () => {
  clearInterval(ticker);
  await running.stop();
  await new Promise<void>((resolve) => (nodeLogs ? nodeLogs.end(resolve) : resolve()));
};
process.once("SIGINT", () => void stop().then(() => process.exit(130)));

const client = createPublicClient({ transport: http(devnet.chain.rpc_url) });
let webhookRetries = 0;
let webhookFailures = 0;
const account = privateKeyToAccount(devnet.accounts.trigger_private_key);

/** The trigger's NewTrigger log, POSTed to every node the way the generic indexer scheme signs it. */
async function deliverByWebhook(receipt: TransactionReceipt): Promise<void> {
  const body = JSON.stringify({ logs: [toJsonRpcLog(receipt.logs[0]!)] });
  await Promise.all(
    devnet.nodes.map(async (node) => {
      // As an indexer does: retry a delivery that failed (the node busy or resetting), same delivery id.
      const deliveryId = randomUUID();
      for (let attempt = 1; ; attempt++) {
        const ts = String(Math.floor(Date.now() / 1000));
        const signature = createHmac("sha256", WEBHOOK_SECRET).update(`${ts}.${body}`).digest("hex");
        const status = await fetch(`${node.url}/webhooks/bench?chain=${devnet.chain.key}`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-wavs-timestamp": ts, "x-wavs-delivery": deliveryId, "x-wavs-signature": `sha256=${signature}` },
          body,
          signal: AbortSignal.timeout(60_000),
        }).then(
          async (res) => (await res.body?.cancel(), res.status),
          () => undefined,
        );
        if (status === 202) return;
        webhookRetries++;
        if (attempt >= 8) {
          webhookFailures++;
          return;
        }
        await new Promise((r) => setTimeout(r, 500 * attempt));
      }
    }),
  );
}

/** Fires `count` triggers at `rate` per second through one path; prints its latency and throughput lines. */
async function runPath(path: Path, offset: number): Promise<void> {
  if (path === "poller") {
    ticker = setInterval(() => {
      for (const n of running.nodes) if (n.running()) fetch(`${n.url}/cdn-cgi/handler/scheduled`).catch(() => {});
    }, 500);
  }
  const fired = new Map<bigint, number>();
  const landed = new Map<bigint, number>();
  let firing = true;
  const deliveries: Promise<void>[] = [];
  const firer = (async () => {
    for (let i = 0; i < count; i++) {
      const started = Date.now();
      const { triggerId, txHash } = await addTrigger({
        rpcUrl: devnet.chain.rpc_url,
        account,
        trigger: devnet.contracts.trigger,
        data: new TextEncoder().encode(`{"x":${offset + i + 2}}`),
      });
      fired.set(triggerId, Date.now()); // the event exists onchain from here on
      if (path === "webhook") deliveries.push(client.getTransactionReceipt({ hash: txHash }).then(deliverByWebhook));
      await new Promise((r) => setTimeout(r, Math.max(0, 1000 / rate - (Date.now() - started))));
    }
    firing = false;
  })();

  const deadline = Date.now() + 900_000;
  while ((firing || landed.size < fired.size) && Date.now() < deadline) {
    for (const [triggerId] of fired) {
      if (landed.has(triggerId)) continue;
      const ok = await client.readContract({ address: devnet.contracts.submit, abi: simpleSubmitAbi, functionName: "isValidTriggerId", args: [triggerId] });
      if (ok) landed.set(triggerId, Date.now());
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await firer;
  await Promise.all(deliveries);

  const latencies = [...landed].map(([id, at]) => at - fired.get(id)!).sort((a, b) => a - b);
  const firstFired = Math.min(...fired.values());
  const lastLanded = Math.max(...landed.values());
  emit({
    bench: "e2e",
    metric: "event_to_landed_ms",
    path,
    operators,
    fired: fired.size,
    landed: landed.size,
    median: quantile(latencies, 0.5),
    p95: quantile(latencies, 0.95),
    max: latencies.at(-1),
    ...(path === "webhook" ? { webhook_retries: webhookRetries, webhook_failures: webhookFailures } : {}),
  });
  emit({ bench: "e2e", metric: "sustained_events_per_s", path, operators, offered_per_s: rate, value: Number(((landed.size * 1000) / (lastLanded - firstFired)).toFixed(2)) });
}

try {
  const startBlock = await client.getBlockNumber();
  for (const [i, path] of paths.entries()) await runPath(path, i * count);

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
  emit({ bench: "e2e", metric: "txs_per_event", operators, events: perEvent.size, max: Math.max(...perEvent.values()), doubled: [...perEvent.values()].filter((n) => n > 1).length, doubled_event_ids: [...perEvent].filter(([, n]) => n > 1).map(([id]) => id) });
} finally {
  await stop();
}
