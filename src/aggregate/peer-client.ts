/**
 * The peer protocol, as a client: a task's status (`GET /aggregator/tasks/…`), a signed submission
 * handed on (`POST /aggregator/submissions`), a landed notice (`POST /aggregator/landed`). Every
 * request names this node in PEER_HEADER and gives up after a timeout; what an answer means (a
 * status, absent, limited, busy, down) is read here and nowhere else.
 */
import type { Hex } from "viem";
import { log } from "../log";
import { aggregatorSettings, normalizeNodeUrl, otherPeers, peerRequestHeaders } from "./peers";
import type { LandedTask } from "./push-landed";
import { submissionOf, type AggregationStatus, type TaskBase } from "./task-state";

/**
 * What a peer answered about a task: its status, "absent" (up, but it has no such task yet),
 * "limited" (up, but its peer rate limit refused us: 429), "busy" (it took our request but gave no
 * status: a 5xx while it restarts or fails, or no answer within the timeout, as when overloaded or
 * frozen), or undefined (down: the connection was refused or failed, or we could not open one).
 */
export type PeerAnswer = AggregationStatus | "absent" | "limited" | "busy" | undefined;

/** Who asks, and how long it waits for an answer. */
export interface PeerCaller {
  /** The headers every request to a peer carries (peerRequestHeaders). */
  headers: Record<string, string>;
  timeoutMs: number;
}

/** This node as a caller of its peers, with the aggregator's peer timeout. */
export function peerCaller(env: Env): PeerCaller {
  return { headers: peerRequestHeaders(env), timeoutMs: aggregatorSettings(env).peerTimeoutMs };
}

/** Reads a task-status answer from its HTTP status and body (`body` undefined: none, or not JSON). */
export function readStatusAnswer(httpStatus: number, body: unknown): PeerAnswer {
  const b = body as { error?: { code?: unknown }; status?: unknown } | undefined;
  // Up and answering, without the task yet (its submissions are still on their way): alive.
  if (httpStatus === 404) return b?.error?.code === "task_not_found" ? "absent" : "busy";
  // Up, but not telling (its peer rate limit, a 5xx while it restarts): not gone.
  if (httpStatus < 200 || httpStatus >= 300) return httpStatus === 429 ? "limited" : "busy";
  return typeof b?.status === "string" ? (b as AggregationStatus) : "busy";
}

/** Reads a request that got no answer: none in time is busy (overloaded, or frozen); refused or failed is down. */
export function readFailedRequest(e: unknown): "busy" | undefined {
  return e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError") ? "busy" : undefined;
}

/** The URL a peer serves a task's status at. */
export function taskStatusUrl(peer: string, task: TaskBase["target"]): string {
  const { eventId, serviceId, workflowId, chain, handler } = task;
  return `${normalizeNodeUrl(peer)}/aggregator/tasks/${eventId}?service=${serviceId}&workflow=${workflowId}&chain=${encodeURIComponent(chain)}&handler=${handler}`;
}

/** Asks a peer for its view of a task. Never throws. */
export async function askTaskStatus(peer: string, task: TaskBase["target"], caller: PeerCaller): Promise<PeerAnswer> {
  try {
    const res = await fetch(taskStatusUrl(peer, task), {
      headers: caller.headers,
      signal: AbortSignal.timeout(caller.timeoutMs),
    });
    const readsBody = res.ok || res.status === 404;
    const body = readsBody ? await res.json().catch(() => undefined) : await res.body?.cancel();
    const answer = readStatusAnswer(res.status, body);
    if (!readsBody)
      log("info", "a peer answered without a status", {
        subsys: "aggregate",
        event_id: task.eventId,
        peer,
        status: res.status,
      });
    return answer;
  } catch (e) {
    return readFailedRequest(e);
  }
}

/**
 * POSTs a signed submission (WAVS Submission JSON, as received or signed here) to a peer.
 * @returns the peer's HTTP status, or undefined when it gave none (unreachable, or no answer in time). Never throws.
 */
export async function postSubmission(peer: string, body: string, caller: PeerCaller): Promise<number | undefined> {
  try {
    const res = await fetch(`${normalizeNodeUrl(peer)}/aggregator/submissions`, {
      method: "POST",
      headers: { "content-type": "application/json", ...caller.headers },
      body,
      signal: AbortSignal.timeout(caller.timeoutMs),
    });
    await res.body?.cancel();
    return res.status;
  } catch {
    return undefined;
  }
}

/** One item's answer in a batch: the HTTP status and body POST /aggregator/submissions would have given it alone. */
export interface BatchItemAnswer {
  status: number;
  body: unknown;
}

/**
 * What a batch POST came to: each item's HTTP status in the order sent; "unsupported" when the peer
 * has no batch route (an older node: 404 or 405 without our JSON error), or the status it answered
 * the whole request with (undefined: none, unreachable or no answer in time).
 */
export type BatchAnswer = { statuses: number[] } | "unsupported" | { status: number | undefined };

/** Reads a batch answer from its HTTP status and body (`body` undefined: none, or not JSON). */
export function readBatchAnswer(httpStatus: number, body: unknown, sent: number): BatchAnswer {
  const results = (body as { results?: unknown } | undefined)?.results;
  if (httpStatus === 200 && Array.isArray(results) && results.length === sent) {
    const statuses = results.map((r) => (r as { status?: unknown } | null)?.status);
    if (statuses.every((s): s is number => typeof s === "number" && Number.isInteger(s))) return { statuses };
    return { status: 502 }; // items without a status: a peer we cannot read, to be tried again
  }
  // Our own routes answer an unknown path with a JSON error; an older node's router 404s it as not_found.
  if (
    httpStatus === 405 ||
    (httpStatus === 404 && (body as { error?: { code?: unknown } })?.error?.code === "not_found")
  )
    return "unsupported";
  return { status: httpStatus === 200 ? 502 : httpStatus };
}

/**
 * POSTs several signed submissions (WAVS Submission JSON each) to a peer in one request
 * (`POST /aggregator/submissions/batch`). Never throws.
 */
export async function postSubmissionBatch(
  peer: string,
  bodies: readonly string[],
  caller: PeerCaller,
): Promise<BatchAnswer> {
  try {
    const res = await fetch(`${normalizeNodeUrl(peer)}/aggregator/submissions/batch`, {
      method: "POST",
      headers: { "content-type": "application/json", ...caller.headers },
      // The items are JSON already: joined, not parsed and written again.
      body: `{"submissions":[${bodies.join(",")}]}`,
      signal: AbortSignal.timeout(caller.timeoutMs),
    });
    const body = await res.json().catch(() => undefined);
    return readBatchAnswer(res.status, body, bodies.length);
  } catch {
    return { status: undefined };
  }
}

/**
 * POSTs a landed notice to a peer (push-landed.ts has its wire form).
 * @returns the peer's HTTP status, or undefined when it gave none. Never throws.
 */
export async function postLanded(peer: string, tasks: LandedTask[], caller: PeerCaller): Promise<number | undefined> {
  try {
    const res = await fetch(`${normalizeNodeUrl(peer)}/aggregator/landed`, {
      method: "POST",
      headers: { "content-type": "application/json", ...caller.headers },
      body: JSON.stringify({ tasks }),
      signal: AbortSignal.timeout(caller.timeoutMs),
    });
    await res.body?.cancel();
    return res.status;
  } catch {
    return undefined;
  }
}

/**
 * Tells every other aggregating node that the tasks landed, one request per peer, concurrently. A
 * peer that does not take it is not asked again: it learns the landing from its fallback poll.
 * Never throws.
 */
export async function pushLanded(env: Env, tasks: LandedTask[]): Promise<void> {
  const caller = peerCaller(env);
  await Promise.all(
    otherPeers(aggregatorSettings(env)).map(async (peer) => {
      const status = await postLanded(peer, tasks, caller);
      if (status === undefined || status < 200 || status >= 300)
        log("info", "a peer did not take a landed notice", {
          subsys: "aggregate",
          peer,
          status: status ?? "unreachable",
        });
    }),
  );
}

/** The submissions this node holds that a peer holding `theirs` lacks, by signer, as WAVS's Submission JSON. */
export function missingSubmissions(
  task: Pick<TaskBase, "target" | "input" | "signatures">,
  theirs: readonly Hex[],
): [Hex, string][] {
  const known = new Set(theirs.map((s) => s.toLowerCase()));
  return (Object.keys(task.signatures) as Hex[]).flatMap((signer) => {
    if (known.has(signer.toLowerCase())) return [];
    const json = submissionOf(task, signer);
    return json === undefined ? [] : [[signer, json] as [Hex, string]];
  });
}
