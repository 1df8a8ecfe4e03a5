import type { Hex } from "viem";
import { describe, expect, it } from "vitest";
import {
  emptyPeerView,
  ABSENT_CHECKS_TOLERATED,
  claimNeedsConfirming,
  claimStillHeld,
  judgeClaim,
  judgePeerSend,
  judgeStandby,
  MISSING_CHECKS_BEFORE_DEAD,
  PEER_SILENCE_GRACE_PERIODS,
  placeFor,
  readPeerAnswers,
  SILENT_CHECKS_BEFORE_TAKEOVER,
  yieldClaim,
  type PeerView,
} from "./takeover-decision";
import type { PeerAnswer } from "./peer-client";
import type { AggregationPhase, AggregationStatus, Claiming, PeerWatch, Standby } from "./task-state";

const GRACE = 1_000;
const NOW = 1_000_000;
const TX = `0x${"12".repeat(32)}` as Hex;
const TX2 = `0x${"34".repeat(32)}` as Hex;
const FROM = `0x${"bb".repeat(20)}` as Hex;
const SIGNER = `0x${"aa".repeat(20)}` as Hex;
const [P1, P2] = ["http://p1", "http://p2"];

const watchSince = (since: number, heardFrom: Record<string, number> = {}): PeerWatch => ({ since, heardFrom });
const read = (
  answers: [string, PeerAnswer][],
  opts: { before?: string[]; watch?: PeerWatch; landed?: { peer: string; txHash: Hex } } = {},
) =>
  readPeerAnswers(
    answers.map(([peer, answer]) => ({ peer, answer })),
    { before: opts.before ?? [], watch: opts.watch ?? watchSince(NOW), now: NOW, graceMs: GRACE, landed: opts.landed },
  );
const status = (s: Partial<AggregationStatus> & { status: AggregationPhase }): PeerAnswer => ({ signers: [], ...s });
const view = (v: Partial<PeerView> = {}): PeerView => ({ ...emptyPeerView({}), ...v });

describe("readPeerAnswers", () => {
  it("counts a peer that gives no status as possibly claiming while it showed life within the silence window", () => {
    const recently = watchSince(NOW, { [P1]: NOW - (PEER_SILENCE_GRACE_PERIODS * GRACE - 1) });
    expect(read([[P1, "busy"]], { watch: recently }).unsettled).toEqual([P1]);
    const long = watchSince(NOW, { [P1]: NOW - PEER_SILENCE_GRACE_PERIODS * GRACE });
    expect(read([[P1, "busy"]], { watch: long }).unsettled).toEqual([]);
  });

  it("presumes a busy peer never heard from up since the watch began, but one that is down not at all", () => {
    const watch = watchSince(NOW - 10);
    expect(read([[P1, "busy"]], { watch }).unsettled).toEqual([P1]);
    expect(read([[P1, undefined]], { watch }).unsettled).toEqual([]);
    expect(read([[P1, "busy"]], { watch: watchSince(NOW - PEER_SILENCE_GRACE_PERIODS * GRACE) }).unsettled).toEqual([]);
  });

  it("takes a 429 as a sign of life (unsettled, heard from now), a timeout as none", () => {
    const watch = watchSince(0, { [P2]: 5 });
    const v = read(
      [
        [P1, "limited"],
        [P2, "busy"],
      ],
      { watch },
    );
    expect(v.unsettled).toEqual([P1]);
    expect(v.heardFrom).toEqual({ [P1]: NOW, [P2]: 5 });
    expect(watch.heardFrom).toEqual({ [P2]: 5 }); // the watch itself is the caller's to update
  });

  it("reads 'no such task' from a node ranked before us as absent and owed our submissions, from others as nothing", () => {
    const v = read([[P1, "absent"]], { before: [P1] });
    expect(v).toMatchObject({ absent: true, alive: false, collecting: [{ peer: P1, signers: [] }] });
    expect(read([[P1, "absent"]], { before: [] })).toMatchObject({ absent: false, collecting: [] });
  });

  it("takes peers claiming or submitting as competing, and notes what a submitting peer sent", () => {
    const v = read([
      [P1, status({ status: "claiming" })],
      [P2, status({ status: "submitting", txHash: TX, from: FROM, nonce: 4 })],
    ]);
    expect(v.competing).toEqual([P1, P2]);
    expect(v.txs).toEqual({ [P2]: { txHash: TX, from: FROM, nonce: 4 } });
  });

  it("never races a landing its own RPC has not seen yet: the peer counts as competing", () => {
    expect(read([[P1, status({ status: "landed", txHash: TX })]]).competing).toEqual([P1]);
  });

  it("ends with the confirmed landing, whatever the other peers said", () => {
    const v = read(
      [
        [P1, status({ status: "claiming" })],
        [P2, status({ status: "landed", txHash: TX })],
      ],
      { landed: { peer: P2, txHash: TX } },
    );
    expect(v).toMatchObject({ landed: { peer: P2, txHash: TX }, competing: [], unsettled: [] });
  });

  it("counts a node ranked before us alive unless it failed, and asks what a collecting one lacks", () => {
    const v = read([[P1, status({ status: "collecting", signers: [SIGNER] })]], { before: [P1] });
    expect(v).toMatchObject({ alive: true, collecting: [{ peer: P1, signers: [SIGNER] }] });
    expect(read([[P1, status({ status: "failed" })]], { before: [P1] }).alive).toBe(false);
    expect(read([[P1, status({ status: "collecting" })]], { before: [] }).alive).toBe(false);
  });
});

describe("judgeClaim", () => {
  it("adopts a confirmed landing first", () => {
    const v = view({ landed: { peer: P1, txHash: TX }, competing: [P2] });
    expect(judgeClaim(v, true)).toEqual({ kind: "adopt", peer: P1, txHash: TX });
  });

  it("yields to a competing peer before anything else", () => {
    expect(judgeClaim(view({ competing: [P1], unsettled: [P2] }), true)).toEqual({ kind: "yield", competing: [P1] });
  });

  it("defers while a peer that gave no status may be claiming", () => {
    expect(judgeClaim(view({ unsettled: [P2] }), true)).toEqual({ kind: "defer", unsettled: [P2] });
  });

  it("submits, searching the chain first only when it has peers", () => {
    expect(judgeClaim(view(), true)).toEqual({ kind: "submit", searchChainFirst: true });
    expect(judgeClaim(view(), false)).toEqual({ kind: "submit", searchChainFirst: false });
  });
});

const base = {
  target: {} as Standby["target"],
  signatures: {},
  rank: 1,
};

describe("yieldClaim", () => {
  it("stands by from zero silent checks, adding the peers' sends to those it knew", () => {
    const claiming: Claiming = {
      ...base,
      phase: "claiming",
      watch: { ...watchSince(1), absentChecks: 7, peerTxs: { [P1]: { txHash: TX, from: FROM, nonce: 1 } } },
    };
    const standby = yieldClaim(claiming, view({ txs: { [P2]: { txHash: TX2, from: FROM, nonce: 2 } } }), NOW);
    expect(standby).toMatchObject({ phase: "standby", silentChecks: 0, rank: 1 });
    expect(standby.watch).toEqual({
      since: 1,
      heardFrom: {},
      absentChecks: 7,
      peerTxs: { [P1]: { txHash: TX, from: FROM, nonce: 1 }, [P2]: { txHash: TX2, from: FROM, nonce: 2 } },
    });
  });
});

describe("claimStillHeld", () => {
  it("holds only while no peer landed, competes or gave no status", () => {
    expect(claimStillHeld(view())).toBe(true);
    expect(claimStillHeld(view({ landed: { peer: P1, txHash: TX } }))).toBe(false);
    expect(claimStillHeld(view({ competing: [P1] }))).toBe(false);
    expect(claimStillHeld(view({ unsettled: [P1] }))).toBe(false);
  });
});

describe("judgeStandby", () => {
  const settings = { now: NOW, graceMs: GRACE, standbyPollMs: 60 * GRACE };
  const standby = (silentChecks: number, watch: Partial<PeerWatch> = {}): Standby => ({
    ...base,
    phase: "standby",
    silentChecks,
    watch: { ...watchSince(1), ...watch },
  });

  it("adopts a confirmed landing, counters untouched", () => {
    const s = standby(1);
    const { next, verdict } = judgeStandby(s, view({ landed: { peer: P1, txHash: TX } }), settings);
    expect(verdict).toEqual({ kind: "adopt", peer: P1, txHash: TX });
    expect(next).toBe(s);
  });

  it("waits on the long fallback timer while a node ranked before us has the task in hand", () => {
    const { next, verdict } = judgeStandby(standby(1), view({ alive: true }), settings);
    expect(next.silentChecks).toBe(0);
    expect(verdict).toEqual({ kind: "wait", at: NOW + 60 * GRACE });
  });

  it("waits one grace period when in any doubt: a peer competing, or one giving no status", () => {
    for (const v of [view({ competing: [P2] }), view({ alive: true, unsettled: [P2] })]) {
      const { next, verdict } = judgeStandby(standby(1), v, settings);
      expect(next.silentChecks).toBe(0);
      expect(verdict).toEqual({ kind: "wait", at: NOW + GRACE });
    }
  });

  it(`tolerates a node ranked before us without the task for ${ABSENT_CHECKS_TOLERATED} grace periods, then counts it silent`, () => {
    const absent = view({ absent: true, collecting: [{ peer: P1, signers: [] }] });
    const tolerated = judgeStandby(standby(0, { absentChecks: ABSENT_CHECKS_TOLERATED - 1 }), absent, settings);
    expect(tolerated.next).toMatchObject({ silentChecks: 0, watch: { absentChecks: ABSENT_CHECKS_TOLERATED } });
    expect(tolerated.forward).toEqual([{ peer: P1, signers: [] }]);
    const over = judgeStandby(standby(0, { absentChecks: ABSENT_CHECKS_TOLERATED }), absent, settings);
    expect(over.next).toMatchObject({ silentChecks: 1, watch: { absentChecks: ABSENT_CHECKS_TOLERATED + 1 } });
  });

  it("resets the absence count once the node before us answers with the task", () => {
    const { next } = judgeStandby(standby(0, { absentChecks: 3 }), view({ alive: true, absent: true }), settings);
    expect(next.watch?.absentChecks).toBe(0);
  });

  it(`looks further only after ${SILENT_CHECKS_BEFORE_TAKEOVER} silent grace periods, at every send any peer reported`, () => {
    const early = judgeStandby(standby(SILENT_CHECKS_BEFORE_TAKEOVER - 2), view(), settings);
    expect(early.verdict).toEqual({ kind: "wait", at: NOW + GRACE });
    const known = { [P1]: { txHash: TX, from: FROM, nonce: 1 } };
    const { next, verdict } = judgeStandby(
      standby(SILENT_CHECKS_BEFORE_TAKEOVER - 1, { peerTxs: known }),
      view({ txs: { [P2]: { txHash: TX2, from: FROM, nonce: 2 } } }),
      settings,
    );
    expect(next.silentChecks).toBe(SILENT_CHECKS_BEFORE_TAKEOVER);
    expect(verdict).toEqual({
      kind: "look",
      sends: [
        [P1, { txHash: TX, from: FROM, nonce: 1 }],
        [P2, { txHash: TX2, from: FROM, nonce: 2 }],
      ],
    });
  });

  it("leaves the state it was given as it was", () => {
    const s = standby(1, { absentChecks: 2 });
    judgeStandby(s, view({ absent: true }), settings);
    expect(s).toMatchObject({ silentChecks: 1, watch: { absentChecks: 2 } });
  });
});

describe("judgePeerSend", () => {
  it("adopts a landed send", () => {
    expect(judgePeerSend("landed", 2)).toEqual({ missing: 2, verdict: "adopt" });
  });

  it("waits for a pending send and forgets earlier misses", () => {
    expect(judgePeerSend("pending", 2)).toEqual({ missing: 0, verdict: "wait" });
  });

  it(`waits for a missing send until it was missing ${MISSING_CHECKS_BEFORE_DEAD} times, then counts it gone`, () => {
    expect(judgePeerSend("missing", MISSING_CHECKS_BEFORE_DEAD - 2)).toEqual({
      missing: MISSING_CHECKS_BEFORE_DEAD - 1,
      verdict: "wait",
    });
    expect(judgePeerSend("missing", MISSING_CHECKS_BEFORE_DEAD - 1)).toEqual({
      missing: MISSING_CHECKS_BEFORE_DEAD,
      verdict: "gone",
    });
  });

  it("moves past a dead send", () => {
    expect(judgePeerSend("dead", 1)).toEqual({ missing: 0, verdict: "next" });
  });
});

describe("placeFor", () => {
  const peers = ["http://127.0.0.1:8787", "http://127.0.0.1:8788", "http://127.0.0.1:8789"];
  const eventId = `0x${"ee".repeat(20)}` as Hex;

  it("puts a lone node first, with nobody before it", () => {
    expect(placeFor(eventId, { peers: [], selfUrl: "" })).toEqual({ rank: 0, ranking: [], before: [] });
  });

  it("gives each node its place in the one ranking, with the nodes ranked before it", () => {
    const places = peers.map((selfUrl) => placeFor(eventId, { peers, selfUrl }));
    expect(places.map((p) => p.rank).sort()).toEqual([0, 1, 2]);
    for (const p of places) {
      expect(p.ranking).toEqual(places[0]!.ranking);
      expect(p.before).toEqual(p.ranking.slice(0, p.rank));
    }
  });
});

describe("claimNeedsConfirming", () => {
  it("confirms a claim older than half a grace period again", () => {
    expect(claimNeedsConfirming(NOW - GRACE / 2, NOW, GRACE)).toBe(false);
    expect(claimNeedsConfirming(NOW - GRACE / 2 - 1, NOW, GRACE)).toBe(true);
  });
});
