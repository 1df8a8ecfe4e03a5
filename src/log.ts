/** Structured logs: one JSON line per event. Callers never pass keys, tokens or mnemonics. */
export type LogFields = {
  subsys: "api" | "ingest" | "queue" | "execute" | "sign" | "aggregate" | "submit" | "chain" | "alerts";
  service_id?: string;
  workflow_id?: string;
  event_id?: string;
  [key: string]: unknown;
};

export function log(level: "debug" | "info" | "warn" | "error", msg: string, fields: LogFields): void {
  const line = JSON.stringify({ level, msg, ...fields }, (_, v) => (typeof v === "bigint" ? v.toString() : v));
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}

/**
 * A one-line, secret-free description of an error for logs and task timelines: viem's short
 * message when there is one, URLs reduced to their host (RPC URLs often carry API keys).
 */
export function describeError(e: unknown): string {
  const text =
    e && typeof e === "object" && "shortMessage" in e && typeof e.shortMessage === "string"
      ? e.shortMessage
      : e instanceof Error
        ? e.message
        : String(e);
  return (text.split("\n")[0] ?? "").replace(/\b(https?|wss?):\/\/(?:[^@/\s"]*@)?([^/\s"]+)[^\s"]*/g, "$1://$2");
}
