/**
 * Hands signed submissions to peers within ONE queue-batch invocation, coalescing in flight: the
 * first submission to a peer goes at once (no timer), and those that arrive while a POST to that
 * peer is under way go together in the next one (`POST /aggregator/submissions/batch`). A peer
 * without the batch route (an older node: 404/405) gets them one by one. Never kept in module
 * state: workerd forbids using one request's I/O from another.
 */
import { postSubmission, postSubmissionBatch, type PeerCaller } from "../aggregate/peer-client";
import { MAX_BATCH_SUBMISSIONS, MAX_SUBMISSION_BODY } from "../aggregate/submission";
import { isPeerRefusal, type DeliveryOutcome } from "./deliver-submissions";

/** What one hand-off came to (the peer's HTTP status when it gave one). */
export interface HandOffResult {
  outcome: DeliveryOutcome;
  status?: number;
}

interface Waiting {
  body: string;
  bytes: number;
  resolve: (r: HandOffResult) => void;
}

interface Lane {
  busy: boolean;
  waiting: Waiting[];
  /** The peer answered the batch route 404/405: one by one from now on. */
  single: boolean;
}

/** An answer's status as an outcome: 2xx delivered, a refusal for good (isPeerRefusal), else retry. */
export function outcomeOf(status: number | undefined): HandOffResult {
  if (status === undefined) return { outcome: "retry" };
  if (status >= 200 && status < 300) return { outcome: "delivered", status };
  return { outcome: isPeerRefusal(status) ? "refused" : "retry", status };
}

/**
 * The first run of `waiting` that fits one batch request: at most MAX_BATCH_SUBMISSIONS items and
 * MAX_SUBMISSION_BODY bytes (always at least one item).
 */
export function takeBatch<T extends { bytes: number }>(waiting: T[]): T[] {
  let bytes = 64; // the wrapper and commas, with room to spare
  let n = 0;
  while (n < waiting.length && n < MAX_BATCH_SUBMISSIONS) {
    bytes += waiting[n]!.bytes + 1;
    if (n > 0 && bytes > MAX_SUBMISSION_BODY) break;
    n++;
  }
  return waiting.splice(0, Math.max(n, 1));
}

/** One queue-batch invocation's hand-offs to its peers. */
export class PeerHandOff {
  private readonly lanes = new Map<string, Lane>();
  constructor(private readonly caller: PeerCaller) {}

  /** Hands `body` (WAVS's Submission JSON) to `peer`; resolves with what came of it. Never rejects. */
  hand(peer: string, body: string): Promise<HandOffResult> {
    const lane = this.lanes.get(peer) ?? { busy: false, waiting: [], single: false };
    this.lanes.set(peer, lane);
    const done = new Promise<HandOffResult>((resolve) => lane.waiting.push({ body, bytes: body.length, resolve }));
    if (!lane.busy) void this.pump(peer, lane);
    return done;
  }

  /** Sends what waits for `peer`, a request at a time, until nothing does. */
  private async pump(peer: string, lane: Lane): Promise<void> {
    lane.busy = true;
    try {
      while (lane.waiting.length > 0) {
        const items = takeBatch(lane.waiting);
        const results = await this.send(peer, lane, items);
        for (const [i, item] of items.entries()) item.resolve(results[i]!);
      }
    } finally {
      lane.busy = false;
    }
  }

  private async send(peer: string, lane: Lane, items: Waiting[]): Promise<HandOffResult[]> {
    const oneByOne = () =>
      Promise.all(items.map(async (item) => outcomeOf(await postSubmission(peer, item.body, this.caller))));
    if (items.length === 1 || lane.single) return oneByOne();
    const answer = await postSubmissionBatch(
      peer,
      items.map((i) => i.body),
      this.caller,
    );
    if (answer === "unsupported") {
      lane.single = true;
      return oneByOne();
    }
    if ("statuses" in answer) return answer.statuses.map(outcomeOf);
    // The request as a whole was refused (not the items): each alone says what it is worth.
    if (answer.status !== undefined && isPeerRefusal(answer.status)) return oneByOne();
    return items.map(() => outcomeOf(answer.status));
  }
}
