import { describe, expect, it } from "vitest";
import { renderPrometheus } from "./render-prometheus";

describe("renderPrometheus", () => {
  it("writes HELP, TYPE, escaped labels and cumulative histogram buckets", () => {
    const text = renderPrometheus([
      { name: "a_total", help: "A.", type: "counter", samples: [{ labels: { chain: 'x"y\\z' }, value: 3 }] },
      {
        name: "h_seconds",
        help: "H.",
        type: "histogram",
        histograms: [{ buckets: [{ le: 0.5, count: 1 }], count: 2, sum: 1.5 }],
      },
    ]);
    expect(text).toBe(
      [
        "# HELP a_total A.",
        "# TYPE a_total counter",
        'a_total{chain="x\\"y\\\\z"} 3',
        "# HELP h_seconds H.",
        "# TYPE h_seconds histogram",
        'h_seconds_bucket{le="0.5"} 1',
        'h_seconds_bucket{le="+Inf"} 2',
        "h_seconds_sum 1.5",
        "h_seconds_count 2",
        "",
      ].join("\n"),
    );
  });
});
