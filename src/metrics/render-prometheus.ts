/** One metric family in the Prometheus text exposition format (version 0.0.4). */
export type MetricFamily =
  | {
      name: string;
      help: string;
      type: "counter" | "gauge";
      samples: { labels?: Record<string, string>; value: number }[];
    }
  | { name: string; help: string; type: "histogram"; histograms: Histogram[] };

export type Histogram = {
  labels?: Record<string, string>;
  /** Upper bounds, ascending, with the cumulative count of observations ≤ each. */
  buckets: { le: number; count: number }[];
  count: number;
  sum: number;
};

type Sample = { labels?: Record<string, string>; value: number };

/** A counter family (the name ends in `_total`). */
export const counter = (name: string, help: string, samples: Sample[]): MetricFamily => ({
  name,
  help,
  type: "counter",
  samples,
});

/** A gauge family. */
export const gauge = (name: string, help: string, samples: Sample[]): MetricFamily => ({
  name,
  help,
  type: "gauge",
  samples,
});

/** Renders metric families as Prometheus text; label values are escaped as the format requires. */
export function renderPrometheus(families: MetricFamily[]): string {
  const lines: string[] = [];
  for (const f of families) {
    lines.push(`# HELP ${f.name} ${f.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`, `# TYPE ${f.name} ${f.type}`);
    if (f.type === "histogram") {
      for (const h of f.histograms) {
        for (const b of h.buckets)
          lines.push(`${f.name}_bucket${labels({ ...h.labels, le: String(b.le) })} ${num(b.count)}`);
        lines.push(`${f.name}_bucket${labels({ ...h.labels, le: "+Inf" })} ${num(h.count)}`);
        lines.push(
          `${f.name}_sum${labels(h.labels)} ${num(h.sum)}`,
          `${f.name}_count${labels(h.labels)} ${num(h.count)}`,
        );
      }
    } else {
      for (const s of f.samples) lines.push(`${f.name}${labels(s.labels)} ${num(s.value)}`);
    }
  }
  return lines.join("\n") + "\n";
}

function labels(l: Record<string, string> | undefined): string {
  const entries = Object.entries(l ?? {});
  if (entries.length === 0) return "";
  const escapeValue = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
  return `{${entries.map(([k, v]) => `${k}="${escapeValue(v)}"`).join(",")}}`;
}

function num(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "+Inf" : "-Inf";
  return String(v);
}
