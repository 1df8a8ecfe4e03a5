/**
 * Who submits: what the peers' answers about a task mean, and the decisions a claiming node and a
 * standby make from them. Pure: the TaskAggregator asks the peers and the chain, and carries out
 * what these functions decide.
 */
import type { Hex } from "viem";
import type { PeerAnswer } from "./peer-client";
import { rankAggregators } from "./peers";
import type { Claiming, PeerTx, PeerWatch, Standby } from "./task-state";

/** A standby takes over only after this many silent grace periods: a slow peer is not a dead one. */
export const SILENT_CHECKS_BEFORE_TAKEOVER = 2;

/**
 * Grace periods a node ranked before us may answer "no such task" (its submissions still on their
 * way, ours forwarded to it) before it counts as silent. Such a node never claimed, and if it claims
 * later it sees our claim and yields, so this bounds only the wait, never the safety.
 */
export const ABSENT_CHECKS_TOLERATED = 5;

/**
 * A peer that does not tell us its status may be claiming or submitting this very task: reading a
 * 429, a slow answer or a failed fetch as "gone" let a standby take over from a first-ranked node
 * that was only saturated, and let two claimants each miss the other's claim, so both sent
 * (bench:e2e doubled events). So a peer that answers without a status counts as up, and so may be
 * claiming, until it has shown no sign of life (a status, "no such task", a 429) for this many grace
 * periods: a node frozen or dead for good cannot hold a task up forever, and one that is merely
 * slow answers now and then. A peer whose connection fails and that never answered for this task
 * is down from the start (a node not running: it cannot be claiming).
 */
export const PEER_SILENCE_GRACE_PERIODS = 3;

/**
 * Grace periods a silent peer's reported transaction may be missing (neither mined, nor in our RPC
 * node's pool, nor replaced by another pending one with its nonce) before it counts as dead: a
 * transaction dropped from the mempool never lands, and its sender is not there to re-send it.
 */
export const MISSING_CHECKS_BEFORE_DEAD = 3;

/** What the peers' answers say, together. */
export interface PeerView {
  /** A peer's landing that our own RPC confirmed. */
  landed?: { peer: string; txHash: Hex };
  /** One of the nodes ranked before us has the task and is not failed. */
  alive: boolean;
  /** One of the nodes ranked before us answered that it has no such task. */
  absent: boolean;
  /** Peers that gave no status (429, 5xx, timeout, failed fetch) and are presumed up: they may be claiming. */
  unsettled: string[];
  /** Peers claiming or submitting the task, or reporting a landing our RPC has not seen yet. */
  competing: string[];
  /** Nodes ranked before us still collecting (or without the task), with the signers they hold. */
  collecting: { peer: string; signers: Hex[] }[];
  /** The transactions peers reported sending, by peer. */
  txs: Record<string, PeerTx>;
  /** When each peer last showed it is up, this poll included: the task's watch takes it. */
  heardFrom: Record<string, number>;
}

/** A view of peers none of which said anything yet: no one alive, absent, claiming or collecting. */
export function emptyPeerView(heardFrom: Record<string, number>): PeerView {
  return { alive: false, absent: false, unsettled: [], competing: [], collecting: [], txs: {}, heardFrom };
}

/**
 * Reads the peers' answers. `before` are the nodes ranked before us; `landed` a peer's landing our
 * RPC confirmed (the caller checks the "landed" answers, in order, and stops at the first true one).
 * Who showed a sign of life at `now` is in the view's `heardFrom`.
 */
export function readPeerAnswers(
  answers: { peer: string; answer: PeerAnswer }[],
  opts: {
    before: readonly string[];
    watch: PeerWatch;
    now: number;
    graceMs: number;
    landed?: { peer: string; txHash: Hex };
  },
): PeerView {
  const { before, watch, now } = opts;
  const silenceMs = PEER_SILENCE_GRACE_PERIODS * opts.graceMs;
  const heardFrom = { ...watch.heardFrom };
  const view = emptyPeerView(heardFrom);
  for (const { peer, answer } of answers) {
    if (answer !== undefined && answer !== "busy") heardFrom[peer] = now;
    if (opts.landed?.peer === peer) {
      // The landing ends the task for us: the rest does not matter.
      const landed = opts.landed;
      return { ...emptyPeerView(heardFrom), landed, alive: true };
    }
    if (answer === undefined || answer === "busy" || answer === "limited") {
      const lastSign = heardFrom[peer] ?? (answer === undefined ? undefined : watch.since);
      if (lastSign !== undefined && now - lastSign < silenceMs) view.unsettled.push(peer);
      continue;
    }
    if (answer === "absent") {
      if (before.includes(peer)) {
        view.absent = true;
        view.collecting.push({ peer, signers: [] });
      }
      continue;
    }
    if (answer.status === "landed" && answer.txHash) {
      view.competing.push(peer); // our RPC has not seen it yet: never race it
      continue;
    }
    if (answer.status === "claiming" || answer.status === "submitting") view.competing.push(peer);
    if (answer.status === "submitting" && answer.txHash && answer.from && typeof answer.nonce === "number") {
      // Any peer's, not only those ranked before us: a rank 0 that yielded to a later-ranked
      // submitter must watch that transaction too before it may ever send its own.
      view.txs[peer] = { txHash: answer.txHash, from: answer.from, nonce: answer.nonce };
    }
    if (before.includes(peer) && answer.status !== "failed") view.alive = true;
    if (before.includes(peer) && answer.status === "collecting")
      view.collecting.push({ peer, signers: answer.signers ?? [] });
  }
  return view;
}

/** What a claiming node does once it heard its peers. */
export type ClaimVerdict =
  /** A peer landed it (confirmed by our RPC). */
  | { kind: "adopt"; peer: string; txHash: Hex }
  /** Another node claims or submits too: stand by (two claimants both see it, so at most one goes on). */
  | { kind: "yield"; competing: string[] }
  /** A peer that gave no status may be claiming too: stay claiming (it yields if it looks at us) and look again. */
  | { kind: "defer"; unsettled: string[] }
  /** Nobody else has it: submit, after a last look at the chain when there are peers (one may have landed it and died). */
  | { kind: "submit"; searchChainFirst: boolean };

/** The claim's decision from the peers' view (`hasPeers`: this node is not alone). */
export function judgeClaim(view: PeerView, hasPeers: boolean): ClaimVerdict {
  if (view.landed) return { kind: "adopt", ...view.landed };
  if (view.competing.length > 0) return { kind: "yield", competing: view.competing };
  if (view.unsettled.length > 0) return { kind: "defer", unsettled: view.unsettled };
  return { kind: "submit", searchChainFirst: hasPeers };
}

/** A claim yielded to a competing peer: standby from the start, the peers' sends noted. */
export function yieldClaim(state: Claiming, view: PeerView, now: number): Standby {
  const watch = state.watch ?? { since: now, heardFrom: {} };
  return {
    ...state,
    phase: "standby",
    silentChecks: 0,
    watch: { ...watch, peerTxs: { ...watch.peerTxs, ...view.txs } },
  };
}

/** Whether a claim made a while ago still holds: no peer landed, claims, submits or may be doing so unseen. */
export function claimStillHeld(view: PeerView): boolean {
  return !view.landed && view.competing.length === 0 && view.unsettled.length === 0;
}

/** What a standby does after a grace period. */
export type StandbyVerdict =
  /** A peer landed it (confirmed by our RPC). */
  | { kind: "adopt"; peer: string; txHash: Hex }
  /** Someone may still submit it: ask again at `at`. */
  | { kind: "wait"; at: number }
  /** Silent for SILENT_CHECKS_BEFORE_TAKEOVER grace periods: look at the peers' sends, the chain, then claim. */
  | { kind: "look"; sends: [peer: string, tx: PeerTx][] };

/**
 * The standby's decision after asking its peers. A node ranked before us that answers is alive and
 * keeps us waiting (one answering "no such task yet" for up to ABSENT_CHECKS_TOLERATED grace
 * periods), and so does any peer claiming or submitting, or giving no status while presumed up.
 * Only after SILENT_CHECKS_BEFORE_TAKEOVER grace periods in which none of that held does it look
 * further. `forward`: the nodes ranked before us still collecting, to hand the submissions they lack.
 */
export function judgeStandby(
  state: Standby,
  view: PeerView,
  opts: { now: number; graceMs: number; standbyPollMs: number },
): { next: Standby; forward: PeerView["collecting"]; verdict: StandbyVerdict } {
  const watch = state.watch ?? { since: opts.now, heardFrom: {} };
  if (view.landed) return { next: state, forward: [], verdict: { kind: "adopt", ...view.landed } };
  const peerTxs = { ...watch.peerTxs, ...view.txs };
  const absentChecks = view.absent && !view.alive ? (watch.absentChecks ?? 0) + 1 : 0;
  const waiting =
    view.alive ||
    view.competing.length > 0 ||
    view.unsettled.length > 0 ||
    (view.absent && absentChecks <= ABSENT_CHECKS_TOLERATED);
  const silentChecks = waiting ? 0 : state.silentChecks + 1;
  const next: Standby = { ...state, silentChecks, watch: { ...watch, peerTxs, absentChecks } };
  if (silentChecks < SILENT_CHECKS_BEFORE_TAKEOVER) {
    // A node ranked before us that answered with the task in hand tells us when it lands
    // (push-landed.ts): ask again only on the long fallback timer. Any doubt: a grace period.
    const inHand = view.alive && !view.absent && view.unsettled.length === 0;
    const at = opts.now + (inHand ? opts.standbyPollMs : opts.graceMs);
    return { next, forward: view.collecting, verdict: { kind: "wait", at } };
  }
  return { next, forward: view.collecting, verdict: { kind: "look", sends: Object.entries(peerTxs) } };
}

/**
 * Where a peer's reported transaction stands: "landed" (a successful handler call), "dead" (reverted,
 * or its sender's nonce went to another transaction), "pending" (in the pool, or a replacement with
 * its nonce is), else "missing" (dropped from the pool, or never reached our RPC node).
 */
export type SendFate = "landed" | "dead" | "pending" | "missing";

/**
 * What a silent peer's transaction means for a standby about to take over, given how many grace
 * periods in a row it was missing before: "adopt" it (landed), "wait" (it may still land: a second
 * transaction would be a double), "gone" (missing MISSING_CHECKS_BEFORE_DEAD times: dropped, its
 * sender not there to re-send it) or "next" (dead; a replacement that landed is found on the chain).
 */
export function judgePeerSend(
  fate: SendFate,
  missingBefore: number,
): { missing: number; verdict: "adopt" | "wait" | "gone" | "next" } {
  if (fate === "landed") return { missing: missingBefore, verdict: "adopt" };
  const missing = fate === "missing" ? missingBefore + 1 : 0;
  if (fate === "missing" && missing >= MISSING_CHECKS_BEFORE_DEAD) return { missing, verdict: "gone" };
  if (fate === "pending" || fate === "missing") return { missing, verdict: "wait" };
  return { missing, verdict: "next" };
}

/**
 * This node's place for an event among the aggregating nodes: its rank (0 submits first; a lone
 * node is first), the whole ranking (empty for a lone node) and the nodes ranked before it.
 */
export function placeFor(
  eventId: Hex,
  settings: { peers: readonly string[]; selfUrl: string },
): { rank: number; ranking: string[]; before: string[] } {
  if (settings.peers.length === 0) return { rank: 0, ranking: [], before: [] };
  const ranking = rankAggregators(eventId, settings.peers);
  const rank = ranking.indexOf(settings.selfUrl);
  return { rank, ranking, before: ranking.slice(0, rank) };
}

/**
 * Whether a claim made at `claimedAt` must be confirmed again before its transaction is handed
 * over: the ChainSubmitter withdraws unsent a claim older than a grace period (a standby may have
 * taken over), so one older than half of it is looked at again, with room to spare for the look.
 */
export function claimNeedsConfirming(claimedAt: number, now: number, graceMs: number): boolean {
  return now - claimedAt > graceMs / 2;
}
