import { eq } from "drizzle-orm";
import type { Hex } from "viem";
import { publicClientFor, redactRpcUrl } from "../chain/rpc";
import { nodeChains, type ChainSettings } from "../config";
import { openDb, type Db } from "../db/client";
import { chainCursors } from "../db/schema";
import { describeError, log } from "../log";
import type { TriggerMessage } from "../queue/messages";
import { evmTriggersOnChain, listServices, managersOnChain } from "../service/service-registry";
import { buildLogMessages, pausedServiceIds, sendTriggerMessages } from "./enqueue-events";
import { getLogsSplitting, parseRpcLog } from "./get-logs";
import { createServiceUriUpdateHandler, readServiceUriUpdated, SERVICE_URI_UPDATED_TOPIC, type ServiceUriUpdateHandler } from "./service-upgrades";
import { buildBlockIntervalMessages, listTimerWorkflows } from "./timer-triggers";

/** Ranges read per chain in one run, so a long backfill spreads over several runs. */
const MAX_RANGES_PER_RUN = 20;

/** Polls every configured chain once; a failing chain does not stop the others. */
export async function pollChains(env: Env): Promise<void> {
  const db = openDb(env.DB);
  const onServiceUriUpdated = createServiceUriUpdateHandler(env);
  await Promise.all(
    (await nodeChains(env)).map((chain) =>
      pollChain(db, env.TRIGGERS, chain, onServiceUriUpdated).catch((e: unknown) =>
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
 *
 * The same eth_getLogs also fetches ServiceURIUpdated from the registered service managers. A range
 * holding one is cut at that block: events up to it go to the workflows as they were, the upgrade is
 * applied, the cursor moves just past it, and reading goes on with the upgraded workflows.
 */
export async function pollChain(
  db: Db,
  queue: Queue<TriggerMessage>,
  chain: ChainSettings,
  onServiceUriUpdated?: ServiceUriUpdateHandler,
): Promise<PollResult | undefined> {
  let state = await loadChainWatch(db, chain.key, onServiceUriUpdated !== undefined);
  if (!state.watching) return undefined;
  const client = publicClientFor(chain);
  const head = await client.getBlockNumber();
  const safe = head - BigInt(chain.confirmations);
  if (safe < 0n) return undefined;
  const cursor = await db.query.chainCursors.findFirst({ where: eq(chainCursors.chain, chain.key) });
  // A chain seen for the first time starts at the current safe block: registration sets the
  // cursor earlier (see startCursorAt) so nothing between registration and first poll is missed.
  const start = cursor ? BigInt(cursor.nextBlock) : safe;
  let from = start;

  const timestamps = new Map<Hex, bigint>();
  let enqueued = 0;

  for (let ranges = 0; from <= safe && ranges < MAX_RANGES_PER_RUN; ranges++) {
    let to = from + BigInt(chain.poll_range) - 1n < safe ? from + BigInt(chain.poll_range) - 1n : safe;
    const { active, blocks, managers, filter } = state;
    const raws = filter ? await getLogsSplitting((args) => client.request(args as never), filter, from, to) : [];
    const entries = raws.map(parseRpcLog).filter((e) => !e.removed);

    // A service upgrade cuts the range at its block: what follows is read again with the upgraded
    // workflows.
    let upgrades = entries.flatMap((entry) => {
      const uri = managers.has(entry.address.toLowerCase()) ? readServiceUriUpdated(entry) : undefined;
      return uri === undefined ? [] : [{ entry, uri }];
    });
    if (upgrades.length > 0) {
      const cut = upgrades.reduce((min, u) => (u.entry.blockNumber < min ? u.entry.blockNumber : min), to);
      upgrades = upgrades.filter((u) => u.entry.blockNumber === cut);
      to = cut;
    }

    const messages: TriggerMessage[] = buildBlockIntervalMessages(chain.key, from, to, blocks);
    for (const entry of entries) {
      if (entry.blockNumber > to) continue;
      if (!active.some((t) => t.address === entry.address.toLowerCase() && t.eventHash === entry.topics[0]?.toLowerCase())) continue;
      let ts = timestamps.get(entry.blockHash);
      if (ts === undefined) {
        // By hash: the header of the very block the log came from, whatever happened since.
        ts = (await client.getBlock({ blockHash: entry.blockHash })).timestamp;
        timestamps.set(entry.blockHash, ts);
      }
      messages.push(...buildLogMessages(chain.key, entry, ts, active, "poller"));
    }
    const refused = await sendTriggerMessages(queue, messages, { db, source: "poller" });
    for (const { entry, uri } of upgrades) await onServiceUriUpdated!(chain.key, entry, uri);
    await setCursor(db, chain.key, to + 1n);
    if (messages.length > 0) {
      log("info", "events enqueued", { subsys: "ingest", chain: chain.key, from, to, count: messages.length - refused.length });
    }
    enqueued += messages.length - refused.length;
    from = to + 1n;
    if (upgrades.length > 0) state = await loadChainWatch(db, chain.key, true);
  }
  return { from: start, next: from, enqueued };
}

/** What the poller watches on one chain: contract-event triggers, block intervals, managers. */
async function loadChainWatch(db: Db, chainKey: string, watchManagers: boolean) {
  const triggers = await evmTriggersOnChain(db, chainKey);
  const blocks = listTimerWorkflows(await listServices(db)).blocks.filter((wf) => wf.chain === chainKey);
  const managers = new Set(watchManagers ? await managersOnChain(db, chainKey) : []);
  const paused = await pausedServiceIds(db);
  const readLogs = triggers.length > 0 || managers.size > 0;
  return {
    watching: readLogs || blocks.length > 0,
    active: triggers.filter((t) => !paused.has(t.serviceId)),
    blocks,
    managers,
    filter: readLogs
      ? {
          address: [...new Set([...triggers.map((t) => t.address), ...managers])] as Hex[],
          topics: [[...new Set([...triggers.map((t) => t.eventHash), ...(managers.size > 0 ? [SERVICE_URI_UPDATED_TOPIC] : [])])] as Hex[]],
        }
      : undefined,
  };
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
