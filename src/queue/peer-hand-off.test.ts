import { describe, expect, inject, it } from "vitest";
import { MAX_BATCH_SUBMISSIONS, MAX_SUBMISSION_BODY } from "../aggregate/submission";
import { outcomeOf, PeerHandOff, takeBatch } from "./peer-hand-off";

// test/worker/http-server.global.ts: /peer/{name}/… a peer that answers after 200 ms, /old-peer/{name}/… one without the batch route
const server = `http://127.0.0.1:${inject("httpServerPort")}`;
const caller = { headers: { "x-wavs-edge-peer": "http://node-a.example" }, timeoutMs: 5_000 };
const seen = async (name: string) =>
  (await (await fetch(`${server}/peer-requests/${name}`)).json()) as { route: string; items: number }[];

describe("PeerHandOff", () => {
  it("sends the first submission at once and those arriving meanwhile together, answering each on its own", async () => {
    const handOff = new PeerHandOff(caller);
    const peer = `${server}/peer/together`;
    const results = await Promise.all(
      ['{"a":1}', '{"b":2}', '{"refuse":3}', '{"c":4}'].map((b) => handOff.hand(peer, b)),
    );
    expect(results).toEqual([
      { outcome: "delivered", status: 202 },
      { outcome: "delivered", status: 202 },
      { outcome: "refused", status: 422 },
      { outcome: "delivered", status: 202 },
    ]);
    expect(await seen("together")).toEqual([
      { route: "/aggregator/submissions", items: 1 },
      { route: "/aggregator/submissions/batch", items: 3 },
    ]);
  });

  it("hands a peer without the batch route the gathered submissions one by one, and keeps doing so", async () => {
    const handOff = new PeerHandOff(caller);
    const peer = `${server}/old-peer/older`;
    const first = await Promise.all(['{"a":1}', '{"b":2}', '{"c":3}'].map((b) => handOff.hand(peer, b)));
    expect(first.map((r) => r.outcome)).toEqual(["delivered", "delivered", "delivered"]);
    const second = await Promise.all(['{"d":1}', '{"e":2}', '{"f":3}'].map((b) => handOff.hand(peer, b)));
    expect(second.map((r) => r.outcome)).toEqual(["delivered", "delivered", "delivered"]);
    const routes = (await seen("older")).map((r) => r.route);
    expect(routes.filter((r) => r.endsWith("/batch"))).toHaveLength(1);
    expect(routes.filter((r) => r === "/aggregator/submissions")).toHaveLength(6);
  });

  it("leaves to the queue what a peer that does not answer did not take", async () => {
    const handOff = new PeerHandOff({ ...caller, timeoutMs: 300 });
    const results = await Promise.all(["{}", "{}"].map((b) => handOff.hand(`${server}/slow`, b)));
    expect(results).toEqual([{ outcome: "retry" }, { outcome: "retry" }]);
  });
});

describe("takeBatch", () => {
  it("takes at most MAX_BATCH_SUBMISSIONS items and MAX_SUBMISSION_BODY bytes, always at least one", () => {
    const many = Array.from({ length: MAX_BATCH_SUBMISSIONS + 5 }, () => ({ bytes: 10 }));
    expect(takeBatch(many)).toHaveLength(MAX_BATCH_SUBMISSIONS);
    expect(many).toHaveLength(5);
    const big = [{ bytes: MAX_SUBMISSION_BODY }, { bytes: 10 }];
    expect(takeBatch(big)).toHaveLength(1);
    const halves = [{ bytes: MAX_SUBMISSION_BODY / 2 - 40 }, { bytes: MAX_SUBMISSION_BODY / 2 - 40 }, { bytes: 100 }];
    expect(takeBatch(halves)).toHaveLength(2);
  });
});

describe("outcomeOf", () => {
  it("reads 2xx as delivered, a 4xx but 408/429 as refused, the rest and no answer as retry", () => {
    expect(outcomeOf(202).outcome).toBe("delivered");
    expect(outcomeOf(403).outcome).toBe("refused");
    expect(outcomeOf(429).outcome).toBe("retry");
    expect(outcomeOf(503).outcome).toBe("retry");
    expect(outcomeOf(undefined)).toEqual({ outcome: "retry" });
  });
});
