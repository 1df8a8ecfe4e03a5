import { createExecutionContext, createMessageBatch, env, getQueueResult, SELF } from "cloudflare:test";
import { describe, expect, inject, it } from "vitest";
import worker from "../../src/index";
import { runAlerts } from "../../src/alerts/run-alerts";
import { recordPayerBalance } from "../../src/chain/payer-balance";
import { chainByKey } from "../../src/config";
import { openDb } from "../../src/db/client";
import { alertNotifications } from "../../src/db/schema";
import { recordTaskStep } from "../../src/db/tasks";
import { verifyWebhookSignature } from "../../src/ingest/webhook-auth";
import { addChainWithoutCheck } from "./chain-fixtures";

const base = () => `http://127.0.0.1:${inject("httpServerPort")}`;
const received = async (name: string) =>
  (await (await fetch(`${base()}/alert-sink-received/${name}`)).json()) as {
    headers: Record<string, string>;
    body: string;
  }[];
type AlertsBody = {
  active: { key: string; rule: string; status: string; summary: string }[];
  recent: { key: string; status: string; resolved_at: number | null }[];
  sinks: { sink: string; delivered: number; pending: number; failed_attempts: number }[];
};
const getAlerts = async () => (await (await SELF.fetch("http://node/alerts")).json()) as AlertsBody;

let serviceCount = 0;
/** A fresh service id with `failed` failed and `landed` landed tasks just now. */
async function serviceWithTasks(failed: number, landed: number): Promise<string> {
  const serviceId = (++serviceCount).toString(16).padStart(64, "c");
  const db = openDb(env.DB);
  for (let i = 0; i < failed + landed; i++) {
    const eventId = `0x${serviceId.slice(-20)}${String(i).padStart(20, "0")}`;
    await recordTaskStep(
      db,
      { eventId, serviceId, workflowId: "default" },
      i < failed ? "execution_failed" : "landed",
      { status: i < failed ? "failed" : "landed" },
    );
  }
  return serviceId;
}

const SECRET = "alert-hmac-secret";
function sinkEnv(name: string, extra: Record<string, string> = {}): Env {
  return {
    ...env,
    ALERT_FAILURE_MIN_TASKS: "1",
    ALERT_WEBHOOK_URL: `${base()}/alert-sink/${name}-webhook`,
    ALERT_WEBHOOK_SECRET: SECRET,
    ALERT_SLACK_WEBHOOK_URL: `${base()}/alert-sink/${name}-slack`,
    ALERT_DISCORD_WEBHOOK_URL: `${base()}/alert-sink/${name}-discord`,
    ...extra,
  } as Env;
}

describe("the node's own alerts", () => {
  it("fire once when a condition starts and once when it clears, to a signed webhook, Slack and Discord", async () => {
    const serviceId = await serviceWithTasks(2, 0);
    const e = sinkEnv("failing");
    await runAlerts(e);
    await runAlerts(e); // still failing: nothing new is sent

    const hooks = await received("failing-webhook");
    expect(hooks).toHaveLength(1);
    const auth = await verifyWebhookSignature(
      new Headers(hooks[0]!.headers),
      new TextEncoder().encode(hooks[0]!.body),
      SECRET,
    );
    expect(auth).toMatchObject({ ok: true, format: "generic" });
    const alert = JSON.parse(hooks[0]!.body) as {
      type: string;
      alert: { key: string; rule: string; labels: Record<string, string> };
    };
    expect(alert).toMatchObject({
      type: "alert.firing",
      alert: { key: `failure_rate:${serviceId}`, rule: "failure_rate", labels: { failed: "2", total: "2" } },
    });
    expect(JSON.parse((await received("failing-slack"))[0]!.body).text).toContain("FIRING [critical] failure_rate");
    expect(JSON.parse((await received("failing-discord"))[0]!.body).content).toContain(
      `service ${serviceId}: 2 of 2 tasks failed`,
    );
    expect((await getAlerts()).active.map((a) => a.key)).toContain(`failure_rate:${serviceId}`);

    // Three landed tasks bring the rate to 40%, under the 50% threshold: one "resolved" per sink.
    const db = openDb(env.DB);
    for (let i = 0; i < 3; i++) {
      await recordTaskStep(db, { eventId: `0x${"e".repeat(39)}${i}`, serviceId, workflowId: "default" }, "landed", {
        status: "landed",
      });
    }
    await runAlerts(e);
    await runAlerts(e);
    const after = await received("failing-webhook");
    expect(after.map((h) => (JSON.parse(h.body) as { type: string }).type)).toEqual(["alert.firing", "alert.resolved"]);
    expect(await received("failing-slack")).toHaveLength(2);
    expect(JSON.parse((await received("failing-discord"))[1]!.body).content).toContain("RESOLVED");
    const listed = await getAlerts();
    expect(listed.active.map((a) => a.key)).not.toContain(`failure_rate:${serviceId}`);
    expect(listed.recent.find((a) => a.key === `failure_rate:${serviceId}`)).toMatchObject({ status: "resolved" });
  });

  it("raises an alert once when two runs race, across isolates (the lease and the open-key index)", async () => {
    await serviceWithTasks(1, 0);
    const e = sinkEnv("race", { ALERT_SLACK_WEBHOOK_URL: "", ALERT_DISCORD_WEBHOOK_URL: "" });
    await Promise.all([runAlerts(e), runAlerts(e), runAlerts(e)]);
    await runAlerts(e);
    expect((await received("race-webhook")).filter((h) => JSON.parse(h.body).type === "alert.firing")).toHaveLength(1);
  });

  it("does not let a sink that fails or hangs stall the run: it retries next run, failures are counted, its URL is never shown", async () => {
    await serviceWithTasks(3, 0);
    const broken = sinkEnv("broken", {
      ALERT_WEBHOOK_URL: `${base()}/unavailable/hook-secret-path`,
      ALERT_SLACK_WEBHOOK_URL: `${base()}/slow/slack-secret-path`,
      ALERT_DISCORD_WEBHOOK_URL: "",
    });
    const started = Date.now();
    await runAlerts(broken, { sinkTimeoutMs: 500 });
    expect(Date.now() - started).toBeLessThan(2_500); // the slow sink (3 s) was cut at 500 ms
    const db = openDb(env.DB);
    const failed = (await db.select().from(alertNotifications)).filter((n) => n.deliveredAt === null);
    expect(failed.map((n) => n.lastError).sort()).toEqual(
      expect.arrayContaining(["the slack sink did not answer within 500 ms", "the webhook sink answered HTTP 503"]),
    );
    // Next run: the same notifications are tried again (attempt 2), and delivered once the sink is back.
    await runAlerts(broken, { sinkTimeoutMs: 500 });
    const retried = (await db.select().from(alertNotifications)).filter(
      (n) => n.deliveredAt === null && n.sink === "webhook",
    );
    expect(retried.every((n) => n.attempts === 2)).toBe(true);
    const fixed = sinkEnv("fixed", { ALERT_SLACK_WEBHOOK_URL: "", ALERT_DISCORD_WEBHOOK_URL: "" });
    await runAlerts(fixed);
    expect((await received("fixed-webhook")).length).toBeGreaterThan(0);

    const metrics = await (await SELF.fetch("http://node/metrics")).text();
    expect(metrics).toMatch(/wavs_alert_delivery_failures_total\{sink="webhook"\} [1-9]/);
    expect(metrics).toMatch(/wavs_alert_delivery_failures_total\{sink="slack"\} [1-9]/);
    const alertsText = await (await SELF.fetch("http://node/alerts")).text();
    expect(alertsText).not.toContain("secret-path");
    expect(alertsText).not.toContain("127.0.0.1");
  });

  it("records dead letters from the dead-letter queue and raises dead_letters", async () => {
    const batch = createMessageBatch("wavs-edge-triggers-dlq", [
      {
        id: "m1",
        timestamp: new Date(),
        attempts: 1,
        body: {
          type: "trigger",
          serviceId: "ab".repeat(32),
          workflowId: "default",
          eventKey: "k1",
          data: { Raw: new Uint8Array([1]) },
        },
      },
    ]);
    const ctx = createExecutionContext();
    await (worker as ExportedHandler<Env, unknown>).queue!(batch, env, ctx);
    expect((await getQueueResult(batch, ctx)).ackAll).toBe(true);
    await runAlerts(env);
    expect((await getAlerts()).active.find((a) => a.rule === "dead_letters")?.summary).toContain("triggers 1");
    expect(await (await SELF.fetch("http://node/metrics")).text()).toContain(
      'wavs_dead_letters_total{queue="triggers"} 1\n',
    );
  });

  it("reads the paying key's balance for /metrics and raises low_balance under the threshold", async () => {
    expect(await addChainWithoutCheck(16, `${base()}/rpc/balance`)).toBe(true);
    const db = openDb(env.DB);
    const payer = "0x00000000000000000000000000000000000000aa";
    expect(await recordPayerBalance(db, await chainByKey(env, "evm:16"), payer)).toBe(16n); // the fake RPC answers 0x10
    const metrics = await (await SELF.fetch("http://node/metrics")).text();
    expect(metrics).toContain(`wavs_payer_balance_wei{chain="evm:16",address="${payer}"} 16\n`);
    expect(metrics).toContain("# TYPE wavs_transactions_pending gauge");
    await runAlerts({ ...env, ALERT_LOW_BALANCE_WEI: '{"evm:16":"17"}' } as Env);
    expect((await getAlerts()).active.find((a) => a.key === "low_balance:evm:16")?.summary).toBe(
      `paying key ${payer} on evm:16 holds 0 ETH, below 0`,
    );
  });

  it("refuses a bad query with a JSON error", async () => {
    const res = await SELF.fetch("http://node/alerts?limit=9999");
    expect(res.status).toBe(422);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("invalid_query");
  });
});
