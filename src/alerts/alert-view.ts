import type { AlertRow } from "./alert-store";

/** An alert as GET /alerts, the dashboard and the CLI show it. */
export type AlertView = {
  id: number;
  key: string;
  rule: string;
  severity: string;
  status: "firing" | "resolved";
  summary: string;
  labels: Record<string, string>;
  /** ms since the epoch */
  started_at: number;
  seen_at: number;
  resolved_at: number | null;
};

export function viewAlert(a: AlertRow): AlertView {
  return {
    id: a.id,
    key: a.key,
    rule: a.rule,
    severity: a.severity,
    status: a.resolvedAt === null ? "firing" : "resolved",
    summary: a.summary,
    labels: JSON.parse(a.labels) as Record<string, string>,
    started_at: a.startedAt,
    seen_at: a.seenAt,
    resolved_at: a.resolvedAt,
  };
}
