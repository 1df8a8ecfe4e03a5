import { eq } from "drizzle-orm";
import type { Hex } from "viem";
import { publicClientFor, redactRpcUrl } from "../chain/rpc";
import { nodeChains, type ChainSettings } from "../config";
import { openDb, type Db } from "../db/client";
import { chainCursors } from "../db/schema";
import { describeError, log } from "../log";
import type { TriggerMessage } from "../queue/messages";
import { evmTriggersOnChain } from "../service/service-registry";
import { logEventKey, logToTriggerData, type ChainLog } from "./log-to-trigger-data";

/** Ranges read per chain in one run, so a long backfill spreads over several runs. */
const MAX_RANGES_PER_RUN = 20;
/** Queues take at most 100 messages per sendBatch. */
const QUEUE_BATCH = 100;

/** Polls every configured chain once; a failing chain does not stop the others. */
export async function pollChains(env: Env): Promise<void> {
  const db = openDb(env.DB);
  await Promise.all(
    nodeChains(env).map((chain) =>
      pollChain(db, env.TRIGGERS, chain).catch((e: unknown) =>
        log("warn", "poll failed", { subsys: "ingest", chain: chain.key, rpc: redactRpcUrl(chain.rpc_url), error: describeError(e) }),
      ),
    ),
  );
}

/**
 * Reads logs matching the chain's registered triggers from the persisted cursor up to
 * head − confirmations, enqueues one message per (log, workflow), then moves the cursor.
 */
export async function pollChain(db: Db, queue: Queue<TriggerMessage>, chain: ChainSettings): Promise<void> {
  const triggers = await evmTriggersOnChain(db, chain.key);
  if (triggers.length === 0) return;
  const client = publicClientFor(chain);
  const head = await client.getBlockNumber();
  const safe = head - BigInt(chain.confirmations);
  const cursor = await db.query.chainCursors.findFirst({ where: eq(chainCursors.chain, chain.key) });
  // A chain seen for the first time starts at the current safe block: registration sets the
  // cursor earlier (see startCursorAt) so nothing between registration and first poll is missed.
  let from = cursor ? BigInt(cursor.nextBlock) : safe;

  const addresses = [...new Set(triggers.map((t) => t.address as Hex))];
  const topics = [...new Set(triggers.map((t) => t.eventHash as Hex))];
  const timestamps = new Map<bigint, bigint>();

  for (let ranges = 0; from <= safe && ranges < MAX_RANGES_PER_RUN; ranges++) {
    const to = from + BigInt(chain.poll_range) - 1n < safe ? from + BigInt(chain.poll_range) - 1n : safe;
    const logs = (await client.request({
      method: "eth_getLogs",
      params: [{ address: addresses, topics: [topics], fromBlock: toHex(from), toBlock: toHex(to) }],
    })) as RpcLog[];

    const messages: TriggerMessage[] = [];
    for (const raw of logs) {
      const entry = parseRpcLog(raw);
      if (entry.removed) continue;
      const matching = triggers.filter(
        (t) => t.address === entry.address.toLowerCase() && t.eventHash === entry.topics[0]?.toLowerCase(),
      );
      if (matching.length === 0) continue;
      let ts = timestamps.get(entry.blockNumber);
      if (ts === undefined) {
        ts = (await client.getBlock({ blockHash: entry.blockHash })).timestamp;
        timestamps.set(entry.blockNumber, ts);
      }
      for (const t of matching) {
        messages.push({
          type: "trigger",
          version: 1,
          serviceId: t.serviceId,
          workflowId: t.workflowId,
          eventKey: `${logEventKey(chain.key, entry)}:${t.serviceId}:${t.workflowId}`,
          data: logToTriggerData(chain.key, entry, ts),
          source: "poller",
          seenAt: Date.now(),
        });
      }
    }
    for (let i = 0; i < messages.length; i += QUEUE_BATCH) {
      // v8 serialisation carries bigints and byte arrays (the default, json, cannot).
      await queue.sendBatch(messages.slice(i, i + QUEUE_BATCH).map((body) => ({ body, contentType: "v8" as const })));
    }
    await setCursor(db, chain.key, to + 1n);
    if (messages.length > 0) {
      log("info", "events enqueued", { subsys: "ingest", chain: chain.key, from: from, to, count: messages.length });
    }
    from = to + 1n;
  }
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

interface RpcLog {
  address: Hex;
  topics: Hex[];
  data: Hex;
  blockNumber: Hex;
  blockHash: Hex;
  transactionHash: Hex;
  transactionIndex: Hex;
  logIndex: Hex;
  removed?: boolean;
}

function parseRpcLog(raw: RpcLog): ChainLog & { removed: boolean } {
  return {
    address: raw.address,
    topics: raw.topics,
    data: raw.data,
    blockNumber: BigInt(raw.blockNumber),
    blockHash: raw.blockHash,
    transactionHash: raw.transactionHash,
    transactionIndex: Number(raw.transactionIndex),
    logIndex: Number(raw.logIndex),
    removed: raw.removed === true,
  };
}

const toHex = (n: bigint) => `0x${n.toString(16)}` as Hex;

