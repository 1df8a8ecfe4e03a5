import { hmacSha256Hex } from "../ingest/webhook-auth";

/** Where alerts go. Each is configured by secrets (`wrangler secret put`), never by [vars]. */
export type SinkKind = "webhook" | "slack" | "discord";

/** The secrets the sinks read; optional, so they are not in wrangler.toml's required list. */
export type AlertSinkSecrets = {
  /** Generic JSON webhook, signed with ALERT_WEBHOOK_SECRET like the node's own generic webhooks. */
  ALERT_WEBHOOK_URL?: string;
  ALERT_WEBHOOK_SECRET?: string;
  /** Slack incoming webhook (https://hooks.slack.com/services/…). */
  ALERT_SLACK_WEBHOOK_URL?: string;
  /** Discord channel webhook (https://discord.com/api/webhooks/…). */
  ALERT_DISCORD_WEBHOOK_URL?: string;
};

export type Sink = { kind: SinkKind; url: string; secret?: string };

/** Which sinks the secrets configure; a broken one is left out with a reason naming the secret (never its value). */
export function configuredSinks(env: AlertSinkSecrets): { sinks: Sink[]; problems: string[] } {
  const sinks: Sink[] = [];
  const problems: string[] = [];
  const url = (name: keyof AlertSinkSecrets): string | undefined => {
    const value = env[name]?.trim();
    if (!value) return undefined;
    try {
      const u = new URL(value);
      if (u.protocol === "https:" || u.protocol === "http:") return value;
    } catch {
      // reported below
    }
    problems.push(`${name} is not an http(s) URL: that sink is off`);
    return undefined;
  };
  const webhook = url("ALERT_WEBHOOK_URL");
  if (webhook) {
    const secret = env.ALERT_WEBHOOK_SECRET?.trim();
    if (secret) sinks.push({ kind: "webhook", url: webhook, secret });
    else
      problems.push(
        "ALERT_WEBHOOK_URL is set without ALERT_WEBHOOK_SECRET: the webhook sink is off (alerts are always signed)",
      );
  }
  const slack = url("ALERT_SLACK_WEBHOOK_URL");
  if (slack) sinks.push({ kind: "slack", url: slack });
  const discord = url("ALERT_DISCORD_WEBHOOK_URL");
  if (discord) sinks.push({ kind: "discord", url: discord });
  return { sinks, problems };
}

/** One alert transition as the sinks describe it. */
export type AlertMessage = {
  id: number;
  kind: "firing" | "resolved";
  key: string;
  rule: string;
  severity: string;
  summary: string;
  labels: Record<string, string>;
  startedAt: number;
  resolvedAt: number | null;
  /** The node's public URL (NODE_URL), when set. */
  node: string | null;
};

/** Discord refuses content over 2000 characters; Slack's text is kept as short. */
const MAX_TEXT = 1_800;
const clip = (s: string) => (s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT - 1)}…` : s);

/** The JSON body each sink expects (pure). */
export function formatAlertBody(kind: SinkKind, m: AlertMessage, sentAt: number): string {
  const head = `${m.kind === "firing" ? "FIRING" : "RESOLVED"} [${m.severity}] ${m.rule}`;
  const where = m.node ? ` on ${m.node}` : "";
  switch (kind) {
    case "webhook":
      return JSON.stringify({
        version: 1,
        type: `alert.${m.kind}`,
        node: m.node,
        alert: {
          id: m.id,
          key: m.key,
          rule: m.rule,
          severity: m.severity,
          status: m.kind,
          summary: m.summary,
          labels: m.labels,
          started_at: new Date(m.startedAt).toISOString(),
          resolved_at: m.resolvedAt === null ? null : new Date(m.resolvedAt).toISOString(),
        },
        sent_at: new Date(sentAt).toISOString(),
      });
    case "slack":
      return JSON.stringify({
        text: clip(
          `${m.kind === "firing" ? ":rotating_light:" : ":white_check_mark:"} *${head}*${where}\n${m.summary}`,
        ),
      });
    case "discord":
      return JSON.stringify({
        content: clip(`${m.kind === "firing" ? "🚨" : "✅"} **${head}**${where}\n${m.summary}`),
        allowed_mentions: { parse: [] }, // a summary never pings anyone
      });
  }
}

/** Headers of a delivery: the generic webhook's are signed as docs/webhooks.md describes (X-Wavs-*). */
export async function alertHeaders(
  sink: Sink,
  body: string,
  deliveryId: string,
  sentAt: number,
): Promise<Record<string, string>> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (sink.kind !== "webhook" || !sink.secret) return headers;
  const ts = String(Math.floor(sentAt / 1000));
  return {
    ...headers,
    "x-wavs-timestamp": ts,
    "x-wavs-delivery": deliveryId,
    "x-wavs-signature": `sha256=${await hmacSha256Hex(sink.secret, `${ts}.${body}`)}`,
  };
}

/**
 * POSTs one notification, bounded by `timeoutMs`.
 * @returns ok, or why not in words that never hold the sink's URL (it is a secret: Slack and Discord
 * put the credential in the path)
 */
export async function sendAlert(
  sink: Sink,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<{ ok: true } | { ok: false; error: string }> {
  try {
    const res = await fetch(sink.url, {
      method: "POST",
      headers,
      body,
      signal: AbortSignal.timeout(timeoutMs),
      redirect: "manual",
    });
    await res.body?.cancel();
    return res.status >= 200 && res.status < 300
      ? { ok: true }
      : { ok: false, error: `the ${sink.kind} sink answered HTTP ${res.status}` };
  } catch (e) {
    const timedOut = e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError");
    return {
      ok: false,
      error: timedOut
        ? `the ${sink.kind} sink did not answer within ${timeoutMs} ms`
        : `the ${sink.kind} sink is unreachable`,
    };
  }
}
