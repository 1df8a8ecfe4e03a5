/**
 * Exactly one transaction per event when the first submitter is slow rather than dead: three
 * nodes, anvil with automine off so the first submitter's transaction stays pending, and that
 * node frozen (SIGSTOP) so it answers nobody. The standbys must see that its transaction can still
 * land and wait for it instead of sending their own; once it is mined they adopt it. Also: a late
 * first submitter whose peers answer only 429 (their peer rate limit) waits for them rather than
 * sending beside a takeover; a first submitter whose transaction the pool dropped while it was
 * frozen is taken over once, and when it thaws it cancels its transaction instead of re-sending it.
 */
import { writeFile } from "node:fs/promises";
import { bytesToHex, createPublicClient, createTestClient, http, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rankAggregators } from "../../src/aggregate/peers";
import { logToTriggerData } from "../../src/ingest/log-to-trigger-data";
import { computeEventId, encodeTriggerDataSalt } from "../../src/service/event-id";
import { addTrigger } from "../../devnet/index";
import { nodeApi, startDevnet, type RunningDevnet } from "../../devnet/index";
import { waitForResult } from "../../devnet/index";
import { eventually, readHandlerTxsByEvent } from "./aggregation-helpers";

const GRACE_MS = 2_000;
/**
 * The timers these faults wait on, short (wrangler.toml documents each): a frozen peer costs a
 * standby PEER_TIMEOUT per look instead of 10 s, and a frozen peer holds its peers' submission
 * queues up 3 s per delivery instead of 30 s.
 */
const FAST_TIMERS = {
  AGGREGATOR_PEER_TIMEOUT_MS: "2000",
  AGGREGATOR_RETRY_MS: "500",
  AGGREGATOR_RECHECK_MS: "2000",
  // A standby that saw the first submitter with the task asks again a grace period later, not a
  // minute: these faults freeze that node right after such a look.
  AGGREGATOR_STANDBY_POLL_MS: String(GRACE_MS),
  SUBMISSION_DELIVERY_TIMEOUT_MS: "3000",
  // Automine is off here on purpose, for minutes: fee bumps (aggregation-chain.test.ts) would
  // change the hashes these tests follow.
  TX_STUCK_AFTER_MS: "600000",
};
let running: RunningDevnet;
const logs: string[] = [];

beforeAll(async () => {
  running = await startDevnet({
    anvilPort: 0,
    nodePort: 0,
    operators: 3,
    aggregatorGraceMs: GRACE_MS,
    nodeVars: FAST_TIMERS,
    pollIntervalMs: 1_000,
    onLog: (l) => logs.push(l),
  });
}, 300_000);
afterAll(async () => {
  for (const n of running?.nodes ?? []) n.pause(false);
  await running?.stop();
  if (process.env.AGGREGATION_TEST_LOG) await writeFile(`${process.env.AGGREGATION_TEST_LOG}.once`, logs.join("\n"));
}, 60_000);

const rpc = () => running.devnet.chain.rpc_url;
const client = () => createPublicClient({ transport: http(rpc()) });
const anvil = () => createTestClient({ mode: "anvil", transport: http(rpc()) });

type Status = { status: string; txHash?: Hex; from?: Hex; nonce?: number };
async function statusOn(i: number, eventId: string): Promise<Status | undefined> {
  const { chain, contracts, service } = running.devnet;
  const res = await fetch(
    `${running.devnet.nodes[i]!.url}/aggregator/tasks/${eventId}?service=${service.id}&workflow=${service.workflow_id}&chain=${chain.key}&handler=${contracts.submit}`,
    {
      signal: AbortSignal.timeout(5_000),
    },
  );
  return res.ok ? ((await res.json()) as Status) : undefined;
}
type Task = { status: string; steps: { step: string }[] };
const taskOn = (i: number, eventId: string) =>
  nodeApi(running.devnet.nodes[i]!.url, "x").get<Task>(`/tasks/${eventId}`);

/** The mined transaction that used `from`'s nonce `nonce`. */
async function transactionAt(from: Hex, nonce: number) {
  const latest = await client().getBlockNumber();
  for (let n = latest; n >= 0n; n--) {
    const block = await client().getBlock({ blockNumber: n, includeTransactions: true });
    const tx = block.transactions.find((t) => t.from.toLowerCase() === from.toLowerCase() && t.nonce === nonce);
    if (tx) return tx;
  }
  throw new Error(`no transaction from ${from} with nonce ${nonce}`);
}

/** Fires a trigger with automine off: mines until the trigger itself is in, then leaves the rest pending. */
async function fireWithAutomineOff(x: number): Promise<void> {
  await anvil().setAutomine(false);
  let done = false;
  const fired = addTrigger({
    rpcUrl: rpc(),
    account: privateKeyToAccount(running.devnet.accounts.trigger_private_key),
    trigger: running.devnet.contracts.trigger,
    data: new TextEncoder().encode(`{"x":${x}}`),
  }).finally(() => (done = true));
  while (!done) {
    await new Promise((r) => setTimeout(r, 200));
    await anvil().mine({ blocks: 1 });
  }
  await fired;
}

/** The event id of the latest trigger, computed from its log as every node does. */
async function latestTriggerEventId(): Promise<Hex> {
  const { service, chain, contracts } = running.devnet;
  const latest = await client().getBlockNumber();
  const [log] = await client()
    .getLogs({ address: contracts.trigger, fromBlock: latest > 20n ? latest - 20n : 0n, toBlock: latest })
    .then((l) => l.slice(-1));
  const block = await client().getBlock({ blockNumber: log!.blockNumber! });
  return bytesToHex(
    computeEventId(
      service.id,
      service.workflow_id,
      encodeTriggerDataSalt(logToTriggerData(chain.key, log!, block.timestamp)),
    ),
  );
}

/**
 * Keeps the nodes' peer rate limit for requests from `asPeer` (miniflare: a fixed 60 s window per
 * client key: address and claimed peer, aligned to the minute) used up: at the start of each
 * window, requests until the node answers 429. `ready` resolves once the limits are used up with at
 * least 30 s of the window left: the node under test must find them used up when it first looks,
 * or it sees its peers' status and yields before the test can watch it defer.
 */
function floodPeerLimiters(urls: string[], asPeer: string): { ready: Promise<void>; stop(): Promise<void> } {
  let stopped = false;
  let markReady = () => {};
  const ready = new Promise<void>((r) => (markReady = r));
  const exhaust = async (url: string) => {
    for (let round = 0; round < 40 && !stopped; round++) {
      const statuses = await Promise.all(
        Array.from({ length: 25 }, () =>
          fetch(
            `${url}/aggregator/tasks/0x${"00".repeat(20)}?service=${"00".repeat(32)}&workflow=none&chain=evm:1&handler=0x${"00".repeat(20)}`,
            {
              headers: { "x-wavs-edge-peer": asPeer },
              signal: AbortSignal.timeout(30_000),
            },
          ).then(
            async (r) => (await r.body?.cancel(), r.status),
            () => 0,
          ),
        ),
      );
      if (statuses.includes(429)) return;
    }
  };
  const loop = (async () => {
    while (!stopped) {
      await Promise.all(urls.map(exhaust));
      if (60_000 - (Date.now() % 60_000) >= 30_000) markReady();
      const nextWindow = Math.ceil(Date.now() / 60_000) * 60_000;
      while (!stopped && Date.now() < nextWindow) await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    ready,
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

describe("a slow first submitter", () => {
  it("is waited for, not doubled: its pending transaction is the only one, and everyone adopts it", async () => {
    await fireWithAutomineOff(8);
    // Whichever node is ranked first for the event submits; its transaction stays in the pool.
    const eventId = await eventually(
      () => nodeApi(running.devnet.nodes[0]!.url, "x").get<{ tasks: { eventId: string }[] }>("/tasks?limit=1"),
      (r) => r.tasks.length > 0,
    ).then((r) => r.tasks[0]!.eventId);
    const [first, sent] = await eventually(
      async () => {
        const statuses = await Promise.all([0, 1, 2].map((i) => statusOn(i, eventId).catch(() => undefined)));
        const i = statuses.findIndex((s) => s?.status === "submitting" && s.txHash);
        return [i, statuses[i]] as const;
      },
      ([i]) => i >= 0,
      90_000,
    );
    expect(await client().getTransaction({ hash: sent!.txHash! })).toMatchObject({ blockNumber: null });
    // What lets a standby tell this transaction can still land.
    expect(sent).toMatchObject({ from: expect.stringMatching(/^0x[0-9a-f]{40}$/), nonce: expect.any(Number) });

    // Let the standbys see it submitting, then freeze it: from now on it answers nobody.
    await new Promise((r) => setTimeout(r, 2 * GRACE_MS));
    running.nodes[first]!.pause(true);
    // Wait for the next standby's decision: past its silent grace periods (each poll of the frozen
    // node times out), it either takes over or sees that the pending transaction may still land.
    // (The last-ranked standby keeps waiting for the one before it, which answers.)
    const standbys = [0, 1, 2].filter((i) => i !== first);
    const decided = (i: number) =>
      logs.some(
        (l) =>
          l.startsWith(`[node${i}]`) &&
          l.includes(eventId) &&
          (l.includes("may still land") || l.includes("taking over")),
      );
    await eventually(
      async () => standbys.some(decided),
      (ok) => ok,
      180_000,
    );
    await new Promise((r) => setTimeout(r, 2 * GRACE_MS)); // a takeover's transaction would be out by now
    for (const i of standbys) {
      const task = await taskOn(i, eventId);
      expect(task.steps.map((s) => s.step)).not.toContain("tx_sent");
      expect((await statusOn(i, eventId))?.status).toBe("standby");
    }

    // The slow transaction lands; the standbys find it and adopt it.
    await anvil().setAutomine(true);
    await anvil().mine({ blocks: 1 });
    for (const i of standbys)
      await eventually(
        () => statusOn(i, eventId),
        (s) => s?.status === "landed" && s.txHash === sent!.txHash,
        60_000,
      );
    running.nodes[first]!.pause(false);
    await eventually(
      () => statusOn(first, eventId),
      (s) => s?.status === "landed",
      60_000,
    );
    expect((await readHandlerTxsByEvent(running.devnet)).get(eventId.toLowerCase())).toEqual([sent!.txHash]);
  }, 420_000);

  it("a first submitter frozen before it sent anything is taken over once, and stays quiet when it thaws", async () => {
    await anvil().setAutomine(true);
    const fired = await addTrigger({
      rpcUrl: rpc(),
      account: privateKeyToAccount(running.devnet.accounts.trigger_private_key),
      trigger: running.devnet.contracts.trigger,
      data: new TextEncoder().encode(`{"x":9}`),
    });
    // Freeze the node ranked first for this event as soon as the event exists (the nodes poll every second).
    const receipt = await client().getTransactionReceipt({ hash: fired.txHash });
    const block = await client().getBlock({ blockNumber: receipt.blockNumber });
    const { service, chain, nodes } = running.devnet;
    const salt = encodeTriggerDataSalt(logToTriggerData(chain.key, receipt.logs[0]!, block.timestamp));
    const eventId = bytesToHex(computeEventId(service.id, service.workflow_id, salt));
    const first = nodes.findIndex(
      (n) =>
        n.url ===
        rankAggregators(
          eventId,
          nodes.map((m) => m.url),
        )[0],
    );
    running.nodes[first]!.pause(true);
    const landed = await waitForResult({
      rpcUrl: rpc(),
      submit: running.devnet.contracts.submit,
      triggerId: fired.triggerId,
      timeoutMs: 180_000,
    });
    expect(landed.eventId.toLowerCase()).toBe(eventId);
    running.nodes[first]!.pause(false);
    // It catches up (poller, peers' queued submissions) and learns of the landing instead of sending.
    await eventually(
      () => statusOn(first, eventId),
      (s) => s?.status === "landed",
      120_000,
    );
    await new Promise((r) => setTimeout(r, 3 * GRACE_MS));
    expect((await taskOn(first, eventId)).steps.map((s) => s.step)).not.toContain("tx_sent");
    expect((await readHandlerTxsByEvent(running.devnet)).get(eventId)).toHaveLength(1);
  }, 300_000);

  it("a late first submitter that its peers rate limit waits for their status instead of sending a second transaction", async () => {
    // Under saturation the nodes' peer rate limit (PEER_LIMITER, 600 a minute per client address and
    // named peer) answers 429. A node that read a 429 as "peer gone"
    // sent its own transaction beside a standby's takeover (bench:e2e doubled events).
    await fireWithAutomineOff(10);
    const eventId = await latestTriggerEventId();
    const { nodes } = running.devnet;
    const ranking = rankAggregators(
      eventId,
      nodes.map((n) => n.url),
    );
    const [first, second, third] = ranking.map((url) => nodes.findIndex((n) => n.url === url)) as [
      number,
      number,
      number,
    ];
    // The first-ranked node freezes before it can submit; the next one takes over, its transaction pending.
    running.nodes[first]!.pause(true);
    const takeover = (await eventually(
      () => statusOn(second, eventId).catch(() => undefined),
      (s) => s?.status === "submitting" && !!s.txHash,
      180_000,
    ))!;

    // Both standbys now rate limit everyone, and the first-ranked node comes back: it catches up,
    // reaches quorum and claims, but its peers answer only 429.
    const flood = floodPeerLimiters([nodes[second]!.url, nodes[third]!.url], nodes[first]!.url);
    try {
      await flood.ready;
      running.nodes[first]!.pause(false);
      const decided = () =>
        logs.some(
          (l) =>
            l.startsWith(`[node${first}]`) &&
            l.includes(eventId) &&
            (l.includes("claim deferred") || l.includes("transaction sent")),
        );
      await eventually(
        async () => decided(),
        (ok) => ok,
        180_000,
      );
      await new Promise((r) => setTimeout(r, 3 * GRACE_MS)); // a second transaction would be out by now
    } finally {
      await flood.stop();
    }
    expect(
      logs.some((l) => l.startsWith(`[node${first}]`) && l.includes(eventId) && l.includes("claim deferred")),
    ).toBe(true);

    // Once its peers answer again it sees the takeover, yields, and adopts the landing.
    await anvil().setAutomine(true);
    await anvil().mine({ blocks: 1 });
    for (const i of [first, second, third]) {
      await eventually(
        () => statusOn(i, eventId).catch(() => undefined),
        (s) => s?.status === "landed" && s.txHash === takeover.txHash,
        180_000,
      );
    }
    expect((await taskOn(first, eventId)).steps.map((s) => s.step)).not.toContain("tx_sent");
    expect((await readHandlerTxsByEvent(running.devnet)).get(eventId)).toEqual([takeover.txHash]);
  }, 600_000);

  it("a first submitter frozen after its transaction was dropped is taken over once, and when it thaws it cancels rather than re-sends", async () => {
    await fireWithAutomineOff(11);
    const eventId = await latestTriggerEventId();
    const [first, sent] = await eventually(
      async () => {
        const statuses = await Promise.all([0, 1, 2].map((i) => statusOn(i, eventId).catch(() => undefined)));
        const i = statuses.findIndex((s) => s?.status === "submitting" && s.txHash);
        return [i, statuses[i]] as const;
      },
      ([i]) => i >= 0,
      180_000,
    );
    // The standbys see it submitting (and note its transaction); then it freezes and the chain's
    // pool forgets its transaction.
    await new Promise((r) => setTimeout(r, 2 * GRACE_MS));
    running.nodes[first]!.pause(true);
    await anvil().dropTransaction({ hash: sent!.txHash! });
    expect(
      await client()
        .getTransaction({ hash: sent!.txHash! })
        .catch(() => undefined),
    ).toBeUndefined();

    const standbys = [0, 1, 2].filter((i) => i !== first);
    const taken = await eventually(
      async () =>
        (await Promise.all(standbys.map((i) => statusOn(i, eventId).catch(() => undefined)))).find(
          (s) => s?.status === "submitting" && s.txHash,
        ),
      (s) => s !== undefined,
      180_000,
    );
    expect(taken!.txHash).not.toBe(sent!.txHash);
    await anvil().setAutomine(true);
    await anvil().mine({ blocks: 1 });
    for (const i of standbys)
      await eventually(
        () => statusOn(i, eventId),
        (s) => s?.status === "landed" && s.txHash === taken!.txHash,
        120_000,
      );

    // It thaws with its transaction's bytes in hand. Re-sending them would land the event twice: it
    // asks its peers first, sees the landing, fills its nonce with a transfer to itself, and adopts.
    running.nodes[first]!.pause(false);
    await eventually(
      () => statusOn(first, eventId),
      (s) => s?.status === "landed" && s.txHash === taken!.txHash,
      120_000,
    );
    expect((await taskOn(first, eventId)).steps.map((s) => s.step)).toEqual(
      expect.arrayContaining(["tx_cancelling", "claim_withdrawn", "landed_by_peer"]),
    );
    const filler = await transactionAt(sent!.from!, sent!.nonce!);
    expect({ to: filler.to?.toLowerCase(), value: filler.value }).toEqual({ to: sent!.from!.toLowerCase(), value: 0n });
    expect(filler.hash).not.toBe(sent!.txHash);
    expect(await client().getTransactionCount({ address: sent!.from!, blockTag: "pending" })).toBe(
      await client().getTransactionCount({ address: sent!.from!, blockTag: "latest" }),
    );
    expect((await readHandlerTxsByEvent(running.devnet)).get(eventId)).toEqual([taken!.txHash]);
  }, 600_000);

  it("across all, exactly one handler transaction per event", async () => {
    const repeated = [...(await readHandlerTxsByEvent(running.devnet))].filter(([, txs]) => txs.length !== 1);
    expect(repeated).toEqual([]);
  });
});
