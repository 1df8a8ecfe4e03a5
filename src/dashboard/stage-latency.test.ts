import { describe, expect, it } from "vitest";
import { computeStageLatencies } from "./stage-latency";

describe("computeStageLatencies", () => {
  it("takes execute from the recorded duration and the rest from step gaps, per task", () => {
    const rows = [
      { eventId: "a", step: "executed", at: 1000, detail: '{"duration_ms":12}' },
      { eventId: "a", step: "quorum_reached", at: 1100, detail: null },
      { eventId: "a", step: "tx_sent", at: 1130, detail: null },
      { eventId: "a", step: "landed", at: 1140, detail: null },
      { eventId: "b", step: "executed", at: 5000, detail: '{"duration_ms":40}' },
      { eventId: "b", step: "quorum_reached", at: 5300, detail: null },
      { eventId: "b", step: "submit_failed", at: 5400, detail: null },
    ];
    expect(computeStageLatencies(rows)).toEqual([
      { stage: "execute", count: 2, p50: 12, p95: 40, max: 40 },
      { stage: "quorum", count: 2, p50: 100, p95: 300, max: 300 },
      { stage: "submit", count: 1, p50: 30, p95: 30, max: 30 },
      { stage: "confirm", count: 1, p50: 10, p95: 10, max: 10 },
    ]);
    expect(computeStageLatencies([])[0]).toEqual({ stage: "execute", count: 0, p50: 0, p95: 0, max: 0 });
  });
});
