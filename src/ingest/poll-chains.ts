import { eq } from "drizzle-orm";
import type { Hex } from "viem";
import { rememberHead } from "../chain/chain-heads";
import { payerAddress, recordPayerBalance } from "../chain/payer-balance";
import { publicClientFor, redactRpcUrl } from "../chain/rpc";
import { nodeChains, type ChainSettings } from "../config";
import { openDb, type Db } from "../db/client";
import { chainCursors } from "../db/schema";
import { describeError, log } from "../log";
import type { TriggerMessage } from "./trigger-message";
import { evmTriggersOnChain, listServices, managersOnChain, pausedServiceIds } from "../service/service-registry";
import { buildLogMessages, sendTriggerMessages } from "./enqueue-events";
import type { ChainLog } from "./log-to-trigger-data";
import { DEFAULT_POLL_MAX_MESSAGES, lastBlockWithinBudget, pollMaxMessages } from "./poll-budget";
import { getLogsSplitting, parseRpcLog } from "./get-logs";
import {
  createServiceUriUpdateHandler,
  readServiceUriUpdated,
  retryPendingUpgrades,
  SERVICE_URI_UPDATED_TOPIC,
  type ServiceUriUpdateHandler,
} from "./service-upgrades";
import { buildBlockIntervalMessages, listTimerWorkflows } from "./timer-triggers";

/**
 * The paying key's balance is read at most this often per chain and isolate: the alerts and
 * /metrics need it fresh to seconds, and at a poll every few hundred milliseconds an
 * eth_getBalance per poll was a third of an idle node's RPC calls.
 */
export const PAYER_BALANCE_EVERY_MS = 5_000;
const balanceReadAt = new Map<string, number>();

/** Whether this poll reads the chain's payer balance (and, if so, notes that it does now). */
function payerBalanceDue(chainKey: string, now: number): boolean {
  if (now - (balanceReadAt.get(chainKey) ?? -Infinity) < PAYER_BALANCE_EVERY_MS) return false;
  balanceReadAt.set(chainKey, now);
  return true;
}

/** Ranges read per chain in one run, so a long backfill spreads over several runs. */
const MAX_RANGES_PER_RUN = 20;

/**
 * Polls every configured chain once (a failing chain does not stop the others) and reads the paying
 * key's balance on each (at most every PAYER_BALANCE_EVERY_MS), then retries the service upgrades whose delay has passed: after the polls,
 * never beside them, so a retry and the upgrade log that supersedes it are never handled at the same time.
 */
export async function pollChains(env: Env): Promise<void> {
  const db = openDb(env.DB);
  const onServiceUriUpdated = createServiceUriUpdateHandler(env);
  let maxMessages = DEFAULT_POLL_MAX_MESSAGES;
  try {
    maxMessages = pollMaxMessages(env.POLL_MAX_MESSAGES);
  } catch (e) {
    // A typo in the setting should not stop polling: say so and go on with the default.
    log("error", "bad POLL_MAX_MESSAGES, using the default", {
      subsys: "ingest",
      default: DEFAULT_POLL_MAX_MESSAGES,
      error: describeError(e),
    });
  }
  const payer = payerAddress(env);
  await Promise.all(
    (await nodeChains(env)).flatMap((chain) => [
      pollChain(db, env.TRIGGERS, chain, onServiceUriUpdated, maxMessages).catch((e: unknown) =>
        log("warn", "poll failed", {
          subsys: "ingest",
          chain: chain.key,
          rpc: chain.rpc_urls.map(redactRpcUrl),
          error: describeError(e),
        }),
      ),
      // Beside the poll (never holding it up): the balance /metrics and the alerts read.
      payer && payerBalanceDue(chain.key, Date.now())
        ? recordPayerBalance(db, chain, payer).catch((e: unknown) =>
            log("warn", "reading the paying key's balance failed", {
              subsys: "ingest",
              chain: chain.key,
              error: describeError(e),
            }),
          )
        : undefined,
    ]),
  );
  await retryPendingUpgrades(env).catch((e: unknown) =>
    log("warn", "service upgrade retries failed", { subsys: "ingest", error: describeError(e) }),
  );
}

export interface PollResult {
  from: bigint;
  /** Next block to read after this run. */
  next: bigint;
  enqueued: number;
  /** Whether the run stopped at its message cap with more of the chain left to read. */
  capped: boolean;
}

/** Orders logs as the chain does: by block, then by log index. */
function byChainPosition(a: ChainLog, b: ChainLog): number {
  return a.blockNumber !== b.blockNumber ? (a.blockNumber < b.blockNumber ? -1 : 1) : a.logIndex - b.logIndex;
}

/**
 * Reads logs matching the chain's registered triggers from the persisted cursor up to
 * head − confirmations, enqueues one message per (log, workflow) and one per block-interval height
 * in the range, then moves the cursor. Logs are only read once buried under the confirmation depth,
 * so a log reorged out above that depth is never seen; backfill after downtime is the same loop
 * starting from an older cursor (block-interval heights missed meanwhile fire then, one each).
 *
 * One run enqueues at most about `maxMessages`: the range is cut at the last block whose messages
 * all fit, the cursor stops after it and the next run goes on from there (a single block holding
 * more than the cap goes whole, alone). Nothing is lost or sent twice at the cut.
 *
 * The same eth_getLogs also fetches ServiceURIUpdated from the registered service managers. Logs are
 * taken in chain order (block, log index): those before an upgrade log go to the workflows as they
 * were, the upgrade is applied, and reading goes on right after the upgrade log, in the same block,
 * with the upgraded workflows (the block read again with the new filter). An upgrade that fails or
 * waits for approval does not hold the cursor: the handler records it and reading goes on with the
 * service as it was.
 */
export async function pollChain(
  db: Db,
  queue: Queue<TriggerMessage>,
  chain: ChainSettings,
  onServiceUriUpdated?: ServiceUriUpdateHandler,
  maxMessages = DEFAULT_POLL_MAX_MESSAGES,
): Promise<PollResult | undefined> {
  const client = publicClientFor(chain);
  const readHead = async () => {
    const head = await client.getBlockNumber();
    rememberHead(chain, head); // /health, /metrics and / reuse it
    return head - BigInt(chain.confirmations);
  };
  const cursor = await db.query.chainCursors.findFirst({ where: eq(chainCursors.chain, chain.key) });
  let safe = cursor ? await readHead() : undefined;
  // Nothing new at the confirmation depth since the last run: the watch list is not read (a poll
  // every few hundred milliseconds then costs one D1 read and one RPC call).
  if (cursor && safe !== undefined && safe < BigInt(cursor.nextBlock)) {
    const next = BigInt(cursor.nextBlock);
    return { from: next, next, enqueued: 0, capped: false };
  }
  let state = await loadChainWatch(db, chain.key, onServiceUriUpdated !== undefined);
  if (!state.watching) return undefined;
  safe ??= await readHead();
  if (safe < 0n) return undefined;
  // A chain seen for the first time starts at the current safe block: registration sets the
  // cursor earlier (see startCursorAt) so nothing between registration and first poll is missed.
  const start = cursor ? BigInt(cursor.nextBlock) : safe;
  let from = start;
  /** Set after an upgrade inside block `from`: the block's logs up to this index are done. */
  let resumeAfter = cursor?.afterLogIndex ?? undefined;

  const timestamps = new Map<Hex, bigint>();
  let sent = 0;
  let enqueued = 0;
  let capped = false;

  for (let ranges = 0; from <= safe && ranges < MAX_RANGES_PER_RUN; ranges++) {
    let to = from + BigInt(chain.poll_range) - 1n < safe ? from + BigInt(chain.poll_range) - 1n : safe;
    const { active, blocks, managers, filter } = state;
    const raws = filter ? await getLogsSplitting((args) => client.request(args as never), filter, from, to) : [];
    const entries = raws
      .map(parseRpcLog)
      .filter((e) => !e.removed && !(resumeAfter !== undefined && e.blockNumber === from && e.logIndex <= resumeAfter))
      .sort(byChainPosition);

    // The first service upgrade in chain order ends this step just before it.
    const upgradeAt = entries.findIndex(
      (e) => managers.has(e.address.toLowerCase()) && readServiceUriUpdated(e) !== undefined,
    );
    const upgrade =
      upgradeAt < 0 ? undefined : { entry: entries[upgradeAt]!, uri: readServiceUriUpdated(entries[upgradeAt]!)! };
    if (upgrade) to = upgrade.entry.blockNumber;
    const workflowsOf = (e: ChainLog) =>
      active.filter((t) => t.address === e.address.toLowerCase() && t.eventHash === e.topics[0]?.toLowerCase()).length;
    const matched = (upgrade ? entries.slice(0, upgradeAt) : entries).filter(
      (e) => e.blockNumber <= to && workflowsOf(e) > 0,
    );
    // A resumed block's heights fired before the upgrade.
    const intervals = buildBlockIntervalMessages(chain.key, resumeAfter === undefined ? from : from + 1n, to, blocks);

    // The message cap: cut at the last block that fits whole. The rest of a block resumed after an
    // upgrade always goes, so the block is never read again with its earlier logs under new workflows.
    const counts = new Map<bigint, number>();
    const count = (block: bigint, n: number) => counts.set(block, (counts.get(block) ?? 0) + n);
    for (const m of intervals) if ("BlockInterval" in m.data) count(m.data.BlockInterval.block_height, 1);
    for (const e of matched) count(e.blockNumber, workflowsOf(e));
    const last = lastBlockWithinBudget(from, to, counts, maxMessages - sent, sent === 0 || resumeAfter !== undefined);
    if (last < to) {
      capped = true;
      to = last;
    }
    if (to < from) break;

    const messages: TriggerMessage[] = intervals.filter(
      (m) => "BlockInterval" in m.data && m.data.BlockInterval.block_height <= to,
    );
    for (const entry of matched) {
      if (entry.blockNumber > to) break;
      // The log's own blockTimestamp where the node gives it (the header's value, so every operator
      // derives the same event id); else the header by hash: the very block the log came from.
      let ts = entry.blockTimestamp ?? timestamps.get(entry.blockHash);
      if (ts === undefined) {
        ts = (await client.getBlock({ blockHash: entry.blockHash })).timestamp;
        timestamps.set(entry.blockHash, ts);
      }
      messages.push(...buildLogMessages(chain.key, entry, ts, active, "poller"));
    }
    const refused = await sendTriggerMessages(queue, messages, { db, source: "poller" });
    if (messages.length > 0) {
      log("info", "events enqueued", {
        subsys: "ingest",
        chain: chain.key,
        from,
        to,
        count: messages.length - refused.length,
      });
    }
    sent += messages.length;
    enqueued += messages.length - refused.length;

    if (upgrade && upgrade.entry.blockNumber <= to) {
      // Everything before the upgrade log is on the queue. The cursor keeps the log index, so a run
      // that fails after this point resumes right here, never re-reading the block's earlier logs
      // with the upgraded workflows. The handler settles the upgrade one way or another (applied,
      // refused, left to retry or for approval) in bounded time; it throws only when D1 does.
      await setCursor(db, chain.key, upgrade.entry.blockNumber, upgrade.entry.logIndex - 1);
      await onServiceUriUpdated!(chain.key, upgrade.entry, upgrade.uri);
      await setCursor(db, chain.key, upgrade.entry.blockNumber, upgrade.entry.logIndex);
      state = await loadChainWatch(db, chain.key, true);
      from = upgrade.entry.blockNumber;
      resumeAfter = upgrade.entry.logIndex;
    } else {
      await setCursor(db, chain.key, to + 1n);
      from = to + 1n;
      resumeAfter = undefined;
    }
    if (capped) break;
  }
  if (capped)
    log("info", "poll run reached its message cap", {
      subsys: "ingest",
      chain: chain.key,
      max_messages: maxMessages,
      next: from,
    });
  return { from: start, next: from, enqueued, capped: capped && from <= safe };
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
          topics: [
            [
              ...new Set([
                ...triggers.map((t) => t.eventHash),
                ...(managers.size > 0 ? [SERVICE_URI_UPDATED_TOPIC] : []),
              ]),
            ] as Hex[],
          ],
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

/** Moves the cursor: next block to read and, when that block is done part-way, the last log index done. */
async function setCursor(db: Db, chain: string, nextBlock: bigint, afterLogIndex: number | null = null) {
  const row = { nextBlock: Number(nextBlock), afterLogIndex, updatedAt: Date.now() };
  await db
    .insert(chainCursors)
    .values({ chain, ...row })
    .onConflictDoUpdate({ target: chainCursors.chain, set: row });
}
