/**
 * Which nodes aggregate, and in which order they submit. PEERS lists the base URLs of every
 * aggregating node of the operator set (this node included, as NODE_URL); every node sends its
 * signed submissions to all of them. Empty PEERS means a lone node that aggregates for itself.
 */
import { integerVar, parsedOncePerIsolate } from "../util/settings-vars";
import { concat, hexToBytes, keccak256, stringToBytes, type Hex } from "viem";
import { z } from "zod";

export interface AggregatorSettings {
  /** This node's own base URL as its peers know it ("" for a lone node). */
  selfUrl: string;
  /** Every aggregating node's base URL, normalised (no trailing slash), self included. */
  peers: string[];
  /** How long a standby waits for each node ranked before it. */
  graceMs: number;
  /** How long a landed task ignores redeliveries. */
  burnMs: number;
  /** How long a node waits for a peer's answer (a task status, a forwarded submission) before reading it as busy. */
  peerTimeoutMs: number;
  /** How soon a step that failed for a transient reason (RPC, peer) is tried again. */
  retryMs: number;
  /** How long a task short of quorum waits before it checks again (and later asks its peers whether it landed). */
  recheckMs: number;
  /**
   * How long a standby waits before asking again while a node ranked before it has the task in
   * hand (that node pushes the landing: this poll is the fallback); never shorter than graceMs.
   */
  standbyPollMs: number;
}

const urlList = z.array(z.string().url()).max(64);

/** Normalises a node URL so that rankings agree whatever the trailing slash. */
export function normalizeNodeUrl(url: string): string {
  return url.trim().replace(/\/+$/, "").toLowerCase();
}

/** The vars the aggregator settings come from (wrangler.toml [vars], documented there). */
export const AGGREGATOR_VARS = [
  "PEERS",
  "NODE_URL",
  "AGGREGATOR_GRACE_MS",
  "TASK_BURN_SECONDS",
  "AGGREGATOR_PEER_TIMEOUT_MS",
  "AGGREGATOR_RETRY_MS",
  "AGGREGATOR_RECHECK_MS",
  "AGGREGATOR_STANDBY_POLL_MS",
] as const;

/**
 * Parses the AGGREGATOR_VARS.
 * @throws Error naming the bad variable
 */
export function parseAggregatorSettings(
  vars: Partial<Record<(typeof AGGREGATOR_VARS)[number], string>>,
): AggregatorSettings {
  let raw: unknown;
  try {
    raw = JSON.parse(vars.PEERS?.trim() || "[]");
  } catch {
    throw new Error("PEERS is not valid JSON (a list of node URLs)");
  }
  const parsed = urlList.safeParse(raw);
  if (!parsed.success) throw new Error("PEERS must be a JSON list of node URLs");
  const selfUrl = vars.NODE_URL?.trim() ? normalizeNodeUrl(vars.NODE_URL) : "";
  const peers = [...new Set(parsed.data.map(normalizeNodeUrl))];
  if (peers.length > 0 && !peers.includes(selfUrl)) throw new Error("PEERS must include this node's NODE_URL");
  const graceMs = Number(vars.AGGREGATOR_GRACE_MS?.trim() || 20_000);
  if (!Number.isInteger(graceMs) || graceMs < 100) throw new Error("AGGREGATOR_GRACE_MS must be an integer ≥ 100");
  const burnSeconds = Number(vars.TASK_BURN_SECONDS?.trim() || 48 * 3600);
  if (!Number.isInteger(burnSeconds) || burnSeconds < 0) throw new Error("TASK_BURN_SECONDS must be an integer ≥ 0");
  const v = vars as Record<string, string | undefined>;
  return {
    selfUrl,
    peers,
    graceMs,
    burnMs: burnSeconds * 1000,
    peerTimeoutMs: integerVar(v, "AGGREGATOR_PEER_TIMEOUT_MS", 10_000, 100, 60_000),
    retryMs: integerVar(v, "AGGREGATOR_RETRY_MS", 2_000, 100, 600_000),
    recheckMs: integerVar(v, "AGGREGATOR_RECHECK_MS", 10_000, 100, 600_000),
    standbyPollMs: Math.max(graceMs, integerVar(v, "AGGREGATOR_STANDBY_POLL_MS", 60_000, 100, 600_000)),
  };
}

/** The aggregating nodes other than this one: the ones it asks about a task. */
export function otherPeers(settings: AggregatorSettings): string[] {
  return settings.peers.filter((p) => p !== settings.selfUrl);
}

/** The node's aggregator settings, parsed once per isolate. */
export const aggregatorSettings = parsedOncePerIsolate(AGGREGATOR_VARS, parseAggregatorSettings);

/**
 * The aggregating nodes in submission order for one event: ascending keccak256(eventId ‖ url).
 * Every node computes the same order, and the first submitter differs from event to event.
 */
export function rankAggregators(eventId: Hex, peers: readonly string[]): string[] {
  const score = (url: string) => BigInt(keccak256(concat([hexToBytes(eventId), stringToBytes(normalizeNodeUrl(url))])));
  return [...peers].sort((a, b) => {
    const d = score(a) - score(b);
    return d < 0n ? -1 : d > 0n ? 1 : 0;
  });
}

/**
 * The header a node names itself with (its NODE_URL) on every request to a peer. Not proof of
 * anything: it only chooses the peer rate limit bucket, so that nodes behind one address (a
 * devnet's 127.0.0.1, Cloudflare's shared egress) do not use up each other's limit.
 */
export const PEER_HEADER = "x-wavs-edge-peer";

/**
 * The headers a node adds to its requests to peers: PEER_HEADER with its own NODE_URL (none for a
 * node without one).
 */
export function peerRequestHeaders(env: Pick<Env, "NODE_URL">): Record<string, string> {
  const self = env.NODE_URL?.trim() ? normalizeNodeUrl(env.NODE_URL) : "";
  return self ? { [PEER_HEADER]: self } : {};
}

/**
 * The peer rate limit bucket of a request within its client address: the URL it claims in
 * PEER_HEADER if that is one of this node's peers, else "other". A flooder claiming peers' URLs
 * thus spreads over at most |peers| + 1 buckets per address.
 */
export function choosePeerBucket(claimed: string | undefined, peers: readonly string[]): string {
  const url = claimed ? normalizeNodeUrl(claimed) : "";
  return url && peers.includes(url) ? url : "other";
}
