/**
 * `npm run bench:e2e`: on a devnet of N operators (default 3), fires triggers through SimpleTrigger
 * open-loop (each at its scheduled time, never waiting for an earlier one) and prints JSON lines
 * per path: event → landed latency (p50, p95, max; from sending the trigger, and p50/p95 from
 * the block that holds it), sustained landed events per second, and per
 * landed event: the nodes' JSON-RPC calls by method (a counting proxy between the nodes and anvil),
 * requests between nodes and D1 statements (each node's GET /dev/counters), handler transactions
 * and gas (read from the chain). Then one line with transactions per event over the run.
 * Paths, each on a devnet of its own: "webhook" (each trigger's log POSTed, signed, to every node's
 * /webhooks/bench as an indexer would; the nodes never poll) and "poller" (the nodes poll from their
 * alarm every --poll-ms, POLL_INTERVAL_MS; default 250).
 * Options: --count N triggers per path (default 100), --rate R triggers per second (default 5),
 * --path webhook|poller (or --paths webhook,poller; default both), --operators N (default 3),
 * --drain-s S (how long to wait for landings once firing ends, default 120 + count / 10),
 * --logs FILE (every node's log lines, prefixed [nodeI], streamed there),
 * --kill-node I (node I is killed with SIGKILL once --kill-at of the triggers left, default 0.33,
 * and started again on its state --down-s later, default 20: the per-event counters then miss
 * what the killed node counted before it died).
 */
import { createHmac, randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import {
  createPublicClient,
  createWalletClient,
  decodeAbiParameters,
  decodeFunctionData,
  getAbiItem,
  http,
  parseEventLogs,
  toHex,
  type Hex,
  type TransactionReceipt,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { simpleSubmitAbi } from "../devnet/index";
import { simpleTriggerAbi } from "../devnet/index";
import { wavsHandlerAbi } from "../src/chain/wavs-abi";
import { triggerInfoParameters } from "../devnet/index";
import { DEVNET_BEARER_TOKEN, startDevnet, type RunningDevnet } from "../devnet/index";
import { toJsonRpcLog } from "../devnet/index";
import { startRpcCountingProxy } from "./lib/rpc-counting-proxy";

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} takes a positive number`);
  return value;
}

function quantile(sorted: number[], q: number): number | null {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]! : null;
}

type Path = "webhook" | "poller";
const count = option("count", 100);
const operators = option("operators", 3);
const rate = option("rate", 5);
const drainMs = option("drain-s", 120 + count / 10) * 1000;
const pollMs = option("poll-ms", 250);
const killNode = process.argv.includes("--kill-node") ? option("kill-node", 1) : undefined;
const killAt = option("kill-at", 0.33);
const downMs = option("down-s", 20) * 1000;
if (killNode !== undefined && (!Number.isInteger(killNode) || killNode >= operators))
  throw new Error(`--kill-node takes a node index below --operators (${operators})`);
const pathArg = Math.max(process.argv.indexOf("--paths"), process.argv.indexOf("--path"));
const paths = (pathArg >= 0 ? process.argv[pathArg + 1]!.split(",") : ["webhook", "poller"]) as Path[];
if (paths.some((p) => p !== "webhook" && p !== "poller")) throw new Error("--path takes webhook and/or poller");
const logsArg = process.argv.indexOf("--logs");
const logsFile = logsArg >= 0 ? process.argv[logsArg + 1] : undefined;
// Streamed, never held: three nodes under load log gigabytes' worth of strings in a run.
const nodeLogs = logsFile ? createWriteStream(logsFile) : undefined;
const emit = (line: Record<string, unknown>) => console.log(JSON.stringify(line));
const dataWithId = getAbiItem({ abi: simpleSubmitAbi, name: "getDataWithId" }).outputs;

const WEBHOOK_SECRET = `bench-${randomUUID()}`;
const rpcProxy = await startRpcCountingProxy();

/**
 * One path's devnet, started fresh so that the paths never feed each other: the webhook path's
 * nodes never poll; the poller path's poll from their alarm every --poll-ms, as an operator
 * running with POLL_INTERVAL_MS does (the scheduled handler only arms it).
 */
async function startNet(path: Path) {
  const running = await startDevnet({
    operators,
    pollIntervalMs: 0,
    extraVars: {
      WEBHOOK_SECRET_BENCH: WEBHOOK_SECRET,
      ...(path === "poller" ? { POLL_INTERVAL_MS: String(pollMs) } : {}),
    },
    nodeRpcUrls: (anvilUrl) => (rpcProxy.setTarget(anvilUrl), [rpcProxy.url]),
    ...(nodeLogs ? { onLog: (l: string) => void nodeLogs.write(`${new Date().toISOString()} ${l}\n`) } : {}),
    onStep: (s) => console.error(`• ${path}: ${s}`),
  });
  const { devnet } = running;
  // cacheTime 0: viem keeps a client's block number for its polling interval (4 s), which delayed
  // seeing each landing by 0-4 s (p50 ~2 s) in every latency this bench printed before.
  const client = createPublicClient({ transport: http(devnet.chain.rpc_url), cacheTime: 0 });
  const account = privateKeyToAccount(devnet.accounts.trigger_private_key);
  const wallet = createWalletClient({ account, transport: http(devnet.chain.rpc_url) });
  const chain = {
    id: devnet.chain.chain_id,
    name: devnet.chain.key,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [devnet.chain.rpc_url] } },
  } as const;
  if (path === "poller") await armPollers(running.nodes);
  /** Handler transactions read from the chain: landings by trigger id, transactions per event id, gas. */
  const chainView = {
    nextBlock: (await client.getBlockNumber()) + 1n,
    landed: new Map<bigint, number>(),
    gasByTrigger: new Map<bigint, number>(),
    txsByTrigger: new Map<bigint, number>(),
  };
  return { running, devnet, client, account, wallet, chain, chainView };
}

/** One scheduled run per node: with POLL_INTERVAL_MS set, it arms the node's poll alarm. */
async function armPollers(nodes: RunningDevnet["nodes"]): Promise<void> {
  await Promise.all(nodes.map((n) => fetch(`${n.url}/cdn-cgi/handler/scheduled`).then((r) => r.body?.cancel())));
}

type Net = Awaited<ReturnType<typeof startNet>>;
let net: Net | undefined;
/** Transactions per event id over every path (ids prefixed with the path). */
const txsPerEvent = new Map<string, number>();
const stop = async () => {
  await net?.running.stop();
  await rpcProxy.stop();
  await new Promise<void>((resolve) => (nodeLogs ? nodeLogs.end(resolve) : resolve()));
};
process.once("SIGINT", () => void stop().then(() => process.exit(130)));

let webhookRetries = 0;
let webhookFailures = 0;

/** Every node's counters (D1 statements, requests received from peers), summed. */
async function nodeCounters({ running }: Net): Promise<Record<string, number>> {
  const sum: Record<string, number> = {};
  for (const node of running.nodes) {
    if (!node.running()) continue;
    // A loaded node may drop a connection: ask again rather than lose the run.
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await fetch(`${node.url}/dev/counters`, {
          headers: { authorization: `Bearer ${DEVNET_BEARER_TOKEN}` },
          signal: AbortSignal.timeout(30_000),
        });
        const { counters } = (await res.json()) as { counters: Record<string, number> };
        for (const [k, v] of Object.entries(counters)) sum[k] = (sum[k] ?? 0) + v;
        break;
      } catch (e) {
        if (attempt >= 5) throw e;
        await new Promise((r) => setTimeout(r, 2_000 * attempt));
      }
    }
  }
  return sum;
}

function diff(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(after)
      .map(([k, v]) => [k, v - (before[k] ?? 0)])
      .filter(([, v]) => (v as number) > 0),
  );
}

const perEvent = (counts: Record<string, number>, events: number) =>
  Object.fromEntries(
    Object.entries(counts)
      .sort(([, a], [, b]) => b - a)
      .map(([k, v]) => [k, Number((v / Math.max(events, 1)).toFixed(2))]),
  );
const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

/** The trigger's NewTrigger log, POSTed to every node the way the generic indexer scheme signs it. */
async function deliverByWebhook({ devnet }: Net, receipt: TransactionReceipt): Promise<void> {
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
          headers: {
            "content-type": "application/json",
            "x-wavs-timestamp": ts,
            "x-wavs-delivery": deliveryId,
            "x-wavs-signature": `sha256=${signature}`,
          },
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

/** Reads the blocks since the last look; notes each successful handler call's trigger id and when it was seen. */
async function readNewBlocks({ client, devnet, chainView }: Net, path: Path): Promise<void> {
  const latest = await client.getBlockNumber();
  for (; chainView.nextBlock <= latest; chainView.nextBlock++) {
    const block = await client.getBlock({ blockNumber: chainView.nextBlock, includeTransactions: true });
    for (const tx of block.transactions) {
      if (tx.to?.toLowerCase() !== devnet.contracts.submit.toLowerCase()) continue;
      let envelope: { eventId: Hex; payload: Hex };
      try {
        const call = decodeFunctionData({ abi: wavsHandlerAbi, data: tx.input });
        if (call.functionName !== "handleSignedEnvelope") continue;
        envelope = call.args[0] as { eventId: Hex; payload: Hex };
      } catch {
        continue;
      }
      const key = `${path}:${envelope.eventId}`;
      txsPerEvent.set(key, (txsPerEvent.get(key) ?? 0) + 1);
      let triggerId: bigint;
      try {
        [{ triggerId }] = decodeAbiParameters(dataWithId, envelope.payload);
      } catch {
        continue;
      }
      chainView.txsByTrigger.set(triggerId, (chainView.txsByTrigger.get(triggerId) ?? 0) + 1);
      const receipt = await client.getTransactionReceipt({ hash: tx.hash });
      if (receipt.status !== "success") continue;
      if (!chainView.landed.has(triggerId)) chainView.landed.set(triggerId, Date.now());
      chainView.gasByTrigger.set(triggerId, (chainView.gasByTrigger.get(triggerId) ?? 0) + Number(receipt.gasUsed));
    }
  }
}

/**
 * With --kill-node I: node I is killed (SIGKILL) once a --kill-at share of the triggers left and
 * started again on its state --down-s seconds later; prints when. Resolves once it is back.
 */
async function killAndRestart(n: Net, path: Path, t0: number): Promise<void> {
  const node = n.running.nodes[killNode!]!;
  await new Promise((r) => setTimeout(r, Math.max(0, t0 + (killAt * count * 1000) / rate - Date.now())));
  await node.kill();
  const killedAt = Date.now();
  await new Promise((r) => setTimeout(r, downMs));
  await node.start();
  if (path === "poller") await armPollers([node]);
  emit({
    bench: "e2e",
    metric: "node_killed",
    path,
    node: killNode,
    killed_at_s: Number(((killedAt - t0) / 1000).toFixed(1)),
    back_at_s: Number(((Date.now() - t0) / 1000).toFixed(1)),
  });
}

/** Fires `count` triggers at `rate` per second through one path, on a devnet of its own; prints its lines. */
async function runPath(path: Path): Promise<void> {
  net = await startNet(path);
  try {
    await firePath(net, path);
  } finally {
    await net.running.stop();
    net = undefined;
  }
}

async function firePath(n: Net, path: Path): Promise<void> {
  const { client, account, wallet, chain, devnet, chainView } = n;
  const rpcBefore = rpcProxy.counts();
  const nodeBefore = await nodeCounters(n);
  const fired = new Map<bigint, number>();
  const mined = new Map<bigint, number>();
  // where an event's time goes, per trigger: its receipt seen, its webhook answered (all nodes)
  const receiptSeen = new Map<bigint, number>();
  const delivered = new Map<bigint, number>();
  const pending: Promise<void>[] = [];
  let nonce = await client.getTransactionCount({ address: account.address, blockTag: "pending" });
  const t0 = Date.now();
  let firing = true;
  const firer = (async () => {
    for (let i = 0; i < count; i++) {
      // Open loop: trigger i leaves at t0 + i / rate whatever became of the earlier ones.
      await new Promise((r) => setTimeout(r, Math.max(0, t0 + (i * 1000) / rate - Date.now())));
      const sentAt = Date.now();
      const hash = await wallet.writeContract({
        chain,
        address: devnet.contracts.trigger,
        abi: simpleTriggerAbi,
        functionName: "addTrigger",
        args: [toHex(`{"x":${i + 2}}`)],
        nonce: nonce++,
        gas: 300_000n,
      });
      // anvil mines on send: the trigger's event is onchain once its hash is back
      const minedAt = Date.now();
      pending.push(
        (async () => {
          const receipt = await client.waitForTransactionReceipt({ hash, pollingInterval: 100 });
          const [log] = parseEventLogs({ abi: simpleTriggerAbi, eventName: "NewTrigger", logs: receipt.logs });
          const [info] = decodeAbiParameters(triggerInfoParameters, log!.args.triggerData);
          fired.set(info.triggerId, sentAt);
          mined.set(info.triggerId, minedAt);
          receiptSeen.set(info.triggerId, Date.now());
          if (path === "webhook") {
            await deliverByWebhook(n, receipt);
            delivered.set(info.triggerId, Date.now());
          }
        })(),
      );
    }
    firing = false;
  })();
  const restarted = killNode === undefined ? undefined : killAndRestart(n, path, t0);

  let drainDeadline = Infinity;
  const landedOf = () => [...fired.keys()].filter((id) => chainView.landed.has(id)).length;
  while (firing || landedOf() < count) {
    if (!firing && drainDeadline === Infinity) drainDeadline = Date.now() + drainMs;
    if (Date.now() > drainDeadline) break;
    await readNewBlocks(n, path);
    // Every 25 ms: a landing is seen 12 ms late on average (at 100 ms it was 50 ms, a sixth of idle latency).
    await new Promise((r) => setTimeout(r, 25));
  }
  await firer;
  await Promise.all(pending);
  await restarted;
  const firingSeconds = (Date.now() - t0) / 1000;
  const rpc = diff(rpcProxy.counts(), rpcBefore);
  const node = diff(await nodeCounters(n), nodeBefore);

  const ids = [...fired.keys()].filter((id) => chainView.landed.has(id));
  const latencies = ids.map((id) => chainView.landed.get(id)! - fired.get(id)!).sort((a, b) => a - b);
  const fromMined = ids.map((id) => chainView.landed.get(id)! - mined.get(id)!).sort((a, b) => a - b);
  const segment = (from: Map<bigint, number>, to: Map<bigint, number>) =>
    quantile(
      ids
        .filter((id) => from.has(id) && to.has(id))
        .map((id) => to.get(id)! - from.get(id)!)
        .sort((a, b) => a - b),
      0.5,
    );
  const firstFired = Math.min(...fired.values());
  const lastLanded = Math.max(...ids.map((id) => chainView.landed.get(id)!));
  const landed = ids.length;
  const peerRequests = Object.fromEntries(
    Object.entries(node)
      .filter(([k]) => k.startsWith("peer_requests_received:"))
      .map(([k, v]) => [k.slice("peer_requests_received:".length), v]),
  );
  const gas = ids.map((id) => chainView.gasByTrigger.get(id) ?? 0).sort((a, b) => a - b);
  emit({
    bench: "e2e",
    metric: "latency_ms",
    path,
    operators,
    offered_per_s: rate,
    fired: fired.size,
    landed,
    p50: quantile(latencies, 0.5),
    p95: quantile(latencies, 0.95),
    max: latencies.at(-1) ?? null,
    // from the trigger's block rather than from sending it (the bench's own RPC calls and anvil)
    mined_to_landed_p50: quantile(fromMined, 0.5),
    mined_to_landed_p95: quantile(fromMined, 0.95),
    // medians of: sending the trigger, the bench seeing its receipt, every node answering its
    // webhook, and from there to the bench seeing the handler's transaction in a block
    segments_p50: {
      send: segment(fired, mined),
      receipt: segment(mined, receiptSeen),
      ...(path === "webhook"
        ? { webhook: segment(receiptSeen, delivered), to_landed: segment(delivered, chainView.landed) }
        : {}),
    },
    ...(path === "webhook" ? { webhook_retries: webhookRetries, webhook_failures: webhookFailures } : {}),
  });
  emit({
    bench: "e2e",
    metric: "sustained_landed_per_s",
    path,
    operators,
    offered_per_s: rate,
    value: landed > 1 ? Number(((landed * 1000) / (lastLanded - firstFired)).toFixed(2)) : null,
    run_s: Number(firingSeconds.toFixed(1)),
  });
  emit({
    bench: "e2e",
    metric: "per_event",
    path,
    operators,
    events: landed,
    rpc_total: total(rpc),
    rpc_calls: Number((total(rpc) / Math.max(landed, 1)).toFixed(1)),
    rpc_by_method: perEvent(rpc, landed),
    node_requests: Number((total(peerRequests) / Math.max(landed, 1)).toFixed(1)),
    node_requests_by_route: perEvent(peerRequests, landed),
    d1_statements: Number(((node.d1_statements ?? 0) / Math.max(landed, 1)).toFixed(1)),
    txs: Number(
      ([...fired.keys()].reduce((n, id) => n + (chainView.txsByTrigger.get(id) ?? 0), 0) / Math.max(landed, 1)).toFixed(
        2,
      ),
    ),
    gas_p50: quantile(gas, 0.5),
    gas_max: gas.at(-1) ?? null,
  });
}

try {
  for (const path of paths) await runPath(path);
  const txCounts = [...txsPerEvent.values()];
  emit({
    bench: "e2e",
    metric: "txs_per_event",
    operators,
    events: txCounts.length,
    txs: txCounts.reduce((a, b) => a + b, 0),
    max: txCounts.length ? Math.max(...txCounts) : null,
    doubled: txCounts.filter((n) => n > 1).length,
    doubled_event_ids: [...txsPerEvent].filter(([, n]) => n > 1).map(([id]) => id),
  });
} finally {
  await stop();
}
