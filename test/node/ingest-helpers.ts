/** Shared helpers for the ingest tests: a provider-like RPC proxy, task counts, scheduled runs. */
import { createServer, type Server } from "node:http";
import { privateKeyToAccount } from "viem/accounts";
import { addTrigger } from "../../devnet/index";
import { nodeApi, type RunningDevnet } from "../../devnet/index";

export type RpcProxy = {
  url: string;
  upstream: string;
  getLogsCalls: number;
  refused: number;
  /** Lets `after` more eth_getLogs calls through, then fails every one (a provider's 503) until called with -1. */
  failGetLogsAfter(after: number): void;
  stop(): Promise<void>;
};

/**
 * An HTTP JSON-RPC proxy in front of `upstream` (set it once anvil runs) that refuses eth_getLogs over more than `maxRange`
 * blocks the way Alchemy does (-32602 "Log response size exceeded …"), like a real provider's limit.
 */
export async function startRpcProxy(maxRange: number): Promise<RpcProxy> {
  const state = { getLogsCalls: 0, refused: 0, upstream: "", failIn: -1 };
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const call = JSON.parse(body) as { id: number; method: string; params: [{ fromBlock: string; toBlock: string }] };
    if (call.method === "eth_getLogs") {
      state.getLogsCalls++;
      if (state.failIn === 0) {
        res.statusCode = 503;
        res.end("upstream unavailable");
        return;
      }
      if (state.failIn > 0) state.failIn--;
      const { fromBlock, toBlock } = call.params[0];
      if (Number(BigInt(toBlock) - BigInt(fromBlock)) + 1 > maxRange) {
        state.refused++;
        res.setHeader("content-type", "application/json");
        res.end(
          JSON.stringify({
            jsonrpc: "2.0",
            id: call.id,
            error: {
              code: -32602,
              message: `Log response size exceeded. You can make eth_getLogs requests with up to a ${maxRange} block range.`,
            },
          }),
        );
        return;
      }
    }
    const upstreamRes = await fetch(state.upstream, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    res.setHeader("content-type", "application/json");
    res.end(await upstreamRes.text());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    get upstream() {
      return state.upstream;
    },
    set upstream(url: string) {
      state.upstream = url;
    },
    get getLogsCalls() {
      return state.getLogsCalls;
    },
    get refused() {
      return state.refused;
    },
    failGetLogsAfter(after: number) {
      state.failIn = after;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function fireTrigger(running: RunningDevnet, x: number) {
  return addTrigger({
    rpcUrl: running.devnet.chain.rpc_url,
    account: privateKeyToAccount(running.devnet.accounts.trigger_private_key),
    trigger: running.devnet.contracts.trigger,
    data: new TextEncoder().encode(`{"x":${x}}`),
  });
}

export function api(running: RunningDevnet) {
  const node = running.devnet.nodes[0]!;
  return nodeApi(node.url, node.bearer_token);
}

type Health = {
  chains: Record<string, unknown>;
  pollers: Record<string, { next_block: number | null; latest_block?: number }>;
};

/** Runs the node's scheduled handler once and waits until the cursor stops moving. */
export async function pollOnce(running: RunningDevnet): Promise<number | null> {
  const node = running.devnet.nodes[0]!;
  const t0 = Date.now();
  if (process.env.DEBUG_INGEST) console.error("pollOnce start");
  // Bounded: the run itself is observed through the cursor below.
  await fetch(`${node.url}/cdn-cgi/handler/scheduled`, { signal: AbortSignal.timeout(20_000) }).catch(() => {});
  let last: number | null | undefined;
  for (let i = 0; i < 40; i++) {
    await sleep(250);
    const health = await api(running)
      .get<Health>("/health")
      .catch(() => undefined);
    const next = health?.pollers[running.devnet.chain.key]?.next_block ?? null;
    if (next !== null && next === last) {
      if (process.env.DEBUG_INGEST) console.error(`pollOnce ${Date.now() - t0} ms`);
      return next;
    }
    last = next;
  }
  return last ?? null;
}

/** The service's tasks, once their number has held steady for a while. */
export async function settledTasks(running: RunningDevnet, expectAtLeast = 0, timeoutMs = 60_000) {
  const t0 = Date.now();
  try {
    return await pollTasksUntilSteady(running, `service_id=${running.devnet.service.id}`, expectAtLeast, timeoutMs, 6);
  } finally {
    if (process.env.DEBUG_INGEST) console.error(`settledTasks ${Date.now() - t0} ms`);
  }
}

/** The sorted event ids of one workflow's tasks, once their number has held steady for a while. */
export async function settledTaskIds(
  running: RunningDevnet,
  serviceId: string,
  workflowId: string,
  expectAtLeast: number,
  timeoutMs = 90_000,
) {
  const tasks = await pollTasksUntilSteady(
    running,
    `service_id=${serviceId}&workflow_id=${workflowId}`,
    expectAtLeast,
    timeoutMs,
    4,
  );
  return tasks.map((t) => t.eventId).sort();
}

/** `GET /tasks?<filter>` until the count is at least `expectAtLeast` and unchanged for `steadyPolls` polls (or the deadline). */
async function pollTasksUntilSteady(
  running: RunningDevnet,
  filter: string,
  expectAtLeast: number,
  timeoutMs: number,
  steadyPolls: number,
) {
  const deadline = Date.now() + timeoutMs;
  let stableFor = 0;
  let last = -1;
  for (;;) {
    const { tasks } = await api(running).get<{ tasks: { eventId: string; status: string }[] }>(
      `/tasks?${filter}&limit=500`,
    );
    if (tasks.length === last && tasks.length >= expectAtLeast) stableFor++;
    else stableFor = 0;
    last = tasks.length;
    if (stableFor >= steadyPolls || Date.now() > deadline) return tasks;
    await sleep(500);
  }
}
