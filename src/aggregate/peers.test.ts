import { describe, expect, it } from "vitest";
import { choosePeerBucket, parseAggregatorSettings, PEER_HEADER, peerRequestHeaders, rankAggregators } from "./peers";

const peers = ["http://127.0.0.1:8787", "http://127.0.0.1:8788", "http://127.0.0.1:8789"];

describe("rankAggregators", () => {
  it("gives every node the same order whatever order it lists its peers in", () => {
    const eventId = "0x600aa2f4ead908bdb17c6509293ed567e544428b";
    expect(rankAggregators(eventId, peers)).toEqual(rankAggregators(eventId, [...peers].reverse()));
    expect(
      rankAggregators(
        eventId,
        peers.map((p) => `${p}/`),
      ).map((p) => p.slice(0, -1)),
    ).toEqual(rankAggregators(eventId, peers));
  });

  it("spreads the first submitter across events", () => {
    const firsts = new Set<string>();
    for (let i = 0; i < 30; i++) {
      firsts.add(rankAggregators(`0x${i.toString(16).padStart(40, "0")}`, peers)[0]!);
    }
    expect(firsts.size).toBe(3);
  });
});

describe("parseAggregatorSettings", () => {
  it("defaults to a lone node with a 48 h burn window", () => {
    expect(parseAggregatorSettings({})).toEqual({
      selfUrl: "",
      peers: [],
      graceMs: 20_000,
      burnMs: 172_800_000,
      peerTimeoutMs: 10_000,
      retryMs: 2_000,
      recheckMs: 10_000,
      standbyPollMs: 60_000,
    });
  });

  it("never polls a first submitter with the task in hand more often than the grace period", () => {
    expect(parseAggregatorSettings({ AGGREGATOR_STANDBY_POLL_MS: "5000" }).standbyPollMs).toBe(20_000);
    expect(
      parseAggregatorSettings({ AGGREGATOR_GRACE_MS: "2000", AGGREGATOR_STANDBY_POLL_MS: "5000" }).standbyPollMs,
    ).toBe(5_000);
    expect(() => parseAggregatorSettings({ AGGREGATOR_STANDBY_POLL_MS: "0" })).toThrow(/AGGREGATOR_STANDBY_POLL_MS/);
  });

  it("takes the timers the fault tests shorten from their vars", () => {
    const s = parseAggregatorSettings({
      AGGREGATOR_PEER_TIMEOUT_MS: "1500",
      AGGREGATOR_RETRY_MS: "300",
      AGGREGATOR_RECHECK_MS: "1000",
    });
    expect([s.peerTimeoutMs, s.retryMs, s.recheckMs]).toEqual([1_500, 300, 1_000]);
  });

  it("normalises URLs and requires NODE_URL among the peers", () => {
    const s = parseAggregatorSettings({ PEERS: JSON.stringify(peers), NODE_URL: "http://127.0.0.1:8788/" });
    expect(s.selfUrl).toBe("http://127.0.0.1:8788");
    expect(() => parseAggregatorSettings({ PEERS: JSON.stringify(peers), NODE_URL: "http://elsewhere" })).toThrow(
      /NODE_URL/,
    );
  });

  it("names the bad variable", () => {
    expect(() => parseAggregatorSettings({ PEERS: "{" })).toThrow(/PEERS/);
    expect(() => parseAggregatorSettings({ PEERS: '["not a url"]' })).toThrow(/PEERS/);
    expect(() => parseAggregatorSettings({ AGGREGATOR_GRACE_MS: "soon" })).toThrow(/AGGREGATOR_GRACE_MS/);
    expect(() => parseAggregatorSettings({ TASK_BURN_SECONDS: "-1" })).toThrow(/TASK_BURN_SECONDS/);
    expect(() => parseAggregatorSettings({ AGGREGATOR_PEER_TIMEOUT_MS: "0" })).toThrow(/AGGREGATOR_PEER_TIMEOUT_MS/);
    expect(() => parseAggregatorSettings({ AGGREGATOR_RETRY_MS: "1.5" })).toThrow(/AGGREGATOR_RETRY_MS/);
    expect(() => parseAggregatorSettings({ AGGREGATOR_RECHECK_MS: "soon" })).toThrow(/AGGREGATOR_RECHECK_MS/);
  });
});

describe("peer rate limit buckets", () => {
  it("names this node by its normalised NODE_URL on peer requests, and nothing without one", () => {
    expect(peerRequestHeaders({ NODE_URL: " HTTP://127.0.0.1:8788/ " })).toEqual({
      [PEER_HEADER]: "http://127.0.0.1:8788",
    });
    expect(peerRequestHeaders({ NODE_URL: "" })).toEqual({});
  });

  it("gives each configured peer its own bucket and everyone else one shared bucket", () => {
    expect(choosePeerBucket("http://127.0.0.1:8787/", peers)).toBe("http://127.0.0.1:8787");
    expect(choosePeerBucket(peerRequestHeaders({ NODE_URL: peers[1]! })[PEER_HEADER], peers)).toBe(peers[1]);
    expect(choosePeerBucket("http://127.0.0.1:9999", peers)).toBe("other");
    expect(choosePeerBucket("", peers)).toBe("other");
    expect(choosePeerBucket(undefined, peers)).toBe("other");
    expect(choosePeerBucket(peers[0], [])).toBe("other");
  });
});
