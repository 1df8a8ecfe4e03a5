import { CliError, flagReader, type ParsedArgs } from "../args";
import { callNode, resolveNode } from "../node-client";
import type { Output } from "../output";

type AlertView = {
  id: number;
  key: string;
  rule: string;
  severity: string;
  status: string;
  summary: string;
  started_at: number;
  resolved_at: number | null;
};
type AlertsBody = {
  active: AlertView[];
  recent: AlertView[];
  sinks: {
    sink: string;
    configured: boolean;
    delivered: number;
    pending: number;
    given_up: number;
    failed_attempts: number;
  }[];
};

const line = (a: AlertView) =>
  `${a.status === "firing" ? "FIRING  " : "resolved"}  ${a.severity.padEnd(8)}  ${a.rule.padEnd(15)}  since ${new Date(a.started_at).toISOString()}` +
  `${a.resolved_at !== null ? ` until ${new Date(a.resolved_at).toISOString()}` : ""}\n          ${a.summary}`;

/** `alerts [--limit N]`: the node's active alerts, recently resolved ones and how each sink fared (GET /alerts). */
export async function alertsCommand(args: ParsedArgs, out: Output): Promise<void> {
  const flags = flagReader(args);
  const node = await resolveNode(flags);
  if (args.positionals[1] !== undefined)
    throw new CliError(`alerts takes no action ("${args.positionals[1]}"); flags: --limit N`, 2);
  const limit = flags.str("limit");
  flags.done();
  if (limit !== undefined && !/^\d{1,3}$/.test(limit)) throw new CliError("--limit must be a number from 0 to 200", 2);
  const body = JSON.parse(
    await callNode(node, "GET", `/alerts${limit !== undefined ? `?limit=${limit}` : ""}`),
  ) as AlertsBody;
  const text = [
    body.active.length ? body.active.map(line).join("\n") : "no alert is firing",
    ...(body.recent.length ? ["", "recently resolved:", ...body.recent.map(line)] : []),
    "",
    body.sinks.length
      ? `sinks: ${body.sinks.map((s) => `${s.sink}${s.configured ? "" : " (no longer configured)"} ${s.delivered} delivered, ${s.pending} pending, ${s.failed_attempts} failed attempts`).join("; ")}`
      : "sinks: none configured (set ALERT_WEBHOOK_URL, ALERT_SLACK_WEBHOOK_URL or ALERT_DISCORD_WEBHOOK_URL as secrets)",
  ].join("\n");
  out.result(body, text);
}
