import { eq } from "drizzle-orm";
import type { Hex } from "viem";
import { publicClientFor, redactRpcUrl } from "../chain/rpc";
import { nodeChains, type ChainSettings } from "../config";
import { openDb, type Db } from "../db/client";
import { chainCursors } from "../db/schema";
import { describeError, log } from "../log";
import type { TriggerMessage } from "../queue/messages";
import { evmTriggersOnChain, listServices } from "../service/service-registry";
import { buildLogMessages, pausedServiceIds, sendTriggerMessages } from "./enqueue-events";
import { getLogsSplitting, parseRpcLog } from "./get-logs";
import { buildBlockIntervalMessages, listTimerWorkflows, type BlockIntervalWorkflow } from "./timer-triggers";

/** Ranges read per chain in one run, so a long backfill spreads over several runs. */
const MAX_RANGES_PER_RUN = 20;

/** Polls every configured chain once; a failing chain does not stop the others. */
export async function pollChains(env: Env): Promise<void> {
  const db = openDb(env.DB);
  const { blocks } = listTimerWorkflows(await listServices(db));
  await Promise.all(
    (await nodeChains(env)).map((chain) =>
      pollChain(db, env.TRIGGERS, chain, blocks).catch((e: unknown) =>
        log("warn", "poll failed", { subsys: "ingest", chain: chain.key, rpc: chain.rpc_urls.map(redactRpcUrl), error: describeError(e) }),
      ),
    ),
  );
}

export interface PollResult {
  from: bigint;
  /** Next block to read after this run. */
  next: bigint;
  enqueued: number;
}

/**
 * Reads logs matching the chain's registered triggers from the persisted cursor up to
 * head − confirmations, enqueues one message per (log, workflow) and one per block-interval height
 * in the range, then moves the cursor. Logs are only read once buried under the confirmation depth,
 * so a log reorged out above that depth is never seen; backfill after downtime is the same loop
 * starting from an older cursor (block-interval heights missed meanwhile fire then, one each).
 */
export async function pollChain(
  db: Db,
  queue: Queue<TriggerMessage>,
  chain: ChainSettings,
  blockWorkflows: readonly BlockIntervalWorkflow[] = [],
): Promise<PollResult | undefined> {
  const triggers = await evmTriggersOnChain(db, chain.key);
  const blocks = blockWorkflows.filter((wf) => wf.chain === chain.key);
  if (triggers.length === 0 && blocks.length === 0) return undefined;
  const client = publicClientFor(chain);
  const head = await client.getBlockNumber();
  const safe = head - BigInt(chain.confirmations);
  if (safe < 0n) return undefined;
  const cursor = await db.query.chainCursors.findFirst({ where: eq(chainCursors.chain, chain.key) });
  // A chain seen for the first time starts at the current safe block: registration sets the
  // cursor earlier (see startCursorAt) so nothing between registration and first poll is missed.
  const start = cursor ? BigInt(cursor.nextBlock) : safe;
  let from = start;

  const paused = await pausedServiceIds(db);
  const active = triggers.filter((t) => !paused.has(t.serviceId));
  const filter = {
    address: [...new Set(triggers.map((t) => t.address as Hex))],
    topics: [[...new Set(triggers.map((t) => t.eventHash as Hex))]],
  };
  const timestamps = new Map<Hex, bigint>();
  let enqueued = 0;

  for (let ranges = 0; from <= safe && ranges < MAX_RANGES_PER_RUN; ranges++) {
    const to = from + BigInt(chain.poll_range) - 1n < safe ? from + BigInt(chain.poll_range) - 1n : safe;
    const logs = triggers.length === 0 ? [] : await getLogsSplitting((args) => client.request(args as never), filter, from, to);

    const messages: TriggerMessage[] = buildBlockIntervalMessages(chain.key, from, to, blocks);
    for (const raw of logs) {
      const entry = parseRpcLog(raw);
      if (entry.removed) continue;
      let ts = timestamps.get(entry.blockHash);
      if (ts === undefined) {
        // By hash: the header of the very block the log came from, whatever happened since.
        ts = (await client.getBlock({ blockHash: entry.blockHash })).timestamp;
        timestamps.set(entry.blockHash, ts);
      }
      messages.push(...buildLogMessages(chain.key, entry, ts, active, "poller"));
    }
    await sendTriggerMessages(queue, messages);
    await setCursor(db, chain.key, to + 1n);
    if (messages.length > 0) {
      log("info", "events enqueued", { subsys: "ingest", chain: chain.key, from, to, count: messages.length });
    }
    enqueued += messages.length;
    from = to + 1n;
  }
  return { from: start, next: from, enqueued };
}

/** Starts a chain's cursor at `block` unless it already has one (called on service registration). */
export async function startCursorAt(db: Db, chain: string, block: bigint): Promise<void> {
  await db
    .insert(chainCursors)
    .values({ chain, nextBlock: Number(block), updatedAt: Date.now() })
    .onConflictDoNothing();
}

async function setCursor(db: Db, chain: string, nextBlock: bigint) {
  await db
    .insert(chainCursors)
    .values({ chain, nextBlock: Number(nextBlock), updatedAt: Date.now() })
    .onConflictDoUpdate({ target: chainCursors.chain, set: { nextBlock: Number(nextBlock), updatedAt: Date.now() } });
}
