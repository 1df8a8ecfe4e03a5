/**
 * The node's own alerts on a real local network (anvil + wrangler dev), delivered to a webhook
 * receiver in this process: the paying key drained below ALERT_LOW_BALANCE_WEI → one signed
 * "firing"; funded again → one "resolved"; a service whose component fails every run → one
 * failure-rate alert. Thresholds are small so the test stays quick.
 */
import { execFile } from "node:child_process";
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { createTestClient, http, parseEther, type Address } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addTrigger, startDevnet, type RunningDevnet } from "../../devnet/index";

const SECRET = "alerts-devnet-secret";
type Delivery = {
  type: string;
  alert: { key: string; rule: string; summary: string; labels: Record<string, string> };
  signed: boolean;
};

let running: RunningDevnet;
let receiver: Server;
const deliveries: Delivery[] = [];

/** Checks X-Wavs-Signature as docs/webhooks.md describes: sha256=HMAC(timestamp "." body). */
function verify(headers: Record<string, string | string[] | undefined>, body: string): boolean {
  const ts = String(headers["x-wavs-timestamp"] ?? "");
  const given = String(headers["x-wavs-signature"] ?? "").replace(/^sha256=/, "");
  const expected = createHmac("sha256", SECRET).update(`${ts}.${body}`).digest("hex");
  return (
    given.length === expected.length &&
    timingSafeEqual(Buffer.from(given), Buffer.from(expected)) &&
    Boolean(headers["x-wavs-delivery"])
  );
}

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      deliveries.push({ ...(JSON.parse(body) as Omit<Delivery, "signed">), signed: verify(req.headers, body) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
  running = await startDevnet({
    anvilPort: 0,
    nodePort: 0,
    extraVars: {
      // Secrets in production (`wrangler secret put`); plain vars here, as wrangler dev loads only
      // the secrets wrangler.toml requires.
      ALERT_WEBHOOK_URL: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/alerts`,
      ALERT_WEBHOOK_SECRET: SECRET,
      ALERT_LOW_BALANCE_WEI: parseEther("1").toString(),
      ALERT_FAILURE_MIN_TASKS: "1",
    },
  });
}, 180_000);
afterAll(async () => {
  await running?.stop();
  await new Promise((r) => receiver?.close(r));
});

const of = (type: string, key: string) => deliveries.filter((d) => d.type === type && d.alert.key === key);
async function until(what: string, ok: () => boolean, ms = 60_000): Promise<void> {
  for (const end = Date.now() + ms; !ok(); ) {
    if (Date.now() > end)
      throw new Error(
        `timed out waiting for ${what}; got ${JSON.stringify(deliveries.map((d) => [d.type, d.alert.key]))}`,
      );
    await new Promise((r) => setTimeout(r, 200));
  }
}
const settle = () => new Promise((r) => setTimeout(r, 3_000)); // several more scheduled runs

describe("alerts on a devnet", () => {
  it("sends one signed low-balance alert when the paying key is drained, and one resolved when it is funded", async () => {
    const { devnet } = running;
    const key = `low_balance:${devnet.chain.key}`;
    const anvil = createTestClient({ mode: "anvil", transport: http(devnet.chain.rpc_url) });
    const payer = running.nodes[0]!.submitter as Address;

    await anvil.setBalance({ address: payer, value: parseEther("0.25") });
    await until("the low-balance alert", () => of("alert.firing", key).length > 0);
    await settle();
    expect(of("alert.firing", key)).toHaveLength(1);
    const [firing] = of("alert.firing", key);
    expect(firing!.signed).toBe(true);
    expect(firing!.alert.labels).toMatchObject({
      chain: devnet.chain.key,
      address: payer.toLowerCase(),
      balance_wei: parseEther("0.25").toString(),
    });

    const listed = (await (await fetch(`${devnet.nodes[0]!.url}/alerts`)).json()) as { active: { key: string }[] };
    expect(listed.active.map((a) => a.key)).toContain(key);
    const metrics = await (await fetch(`${devnet.nodes[0]!.url}/metrics`)).text();
    expect(metrics).toContain(
      `wavs_payer_balance_wei{chain="${devnet.chain.key}",address="${payer.toLowerCase()}"} ${parseEther("0.25")}`,
    );

    await anvil.setBalance({ address: payer, value: parseEther("100") });
    await until("the resolved low-balance alert", () => of("alert.resolved", key).length > 0);
    await settle();
    expect(of("alert.resolved", key)).toHaveLength(1);
    expect(of("alert.firing", key)).toHaveLength(1);
    expect(of("alert.resolved", key)[0]!.signed).toBe(true);
  });

  it("sends one failure-rate alert for a service whose component fails every run", async () => {
    const { devnet } = running;
    const key = `failure_rate:${devnet.service.id}`;
    for (const text of ["not json", "still not json"]) {
      // The demo component (square) throws on input that is not JSON.
      await addTrigger({
        rpcUrl: devnet.chain.rpc_url,
        account: privateKeyToAccount(devnet.accounts.trigger_private_key),
        trigger: devnet.contracts.trigger,
        data: new TextEncoder().encode(text),
      });
    }
    await until("the failure-rate alert", () => of("alert.firing", key).length > 0);
    await settle();
    expect(of("alert.firing", key)).toHaveLength(1);
    expect(of("alert.firing", key)[0]!.signed).toBe(true);
    expect(of("alert.firing", key)[0]!.alert.summary).toContain("tasks failed");

    // The CLI shows it, and the resolved low-balance alert, and the webhook sink's deliveries.
    const node = devnet.nodes[0]!;
    const { stdout } = await new Promise<{ stdout: string }>((resolve, reject) =>
      execFile(
        process.execPath,
        [join(process.cwd(), "bin", "wavs-edge.mjs"), "alerts", "--node", node.url, "--token", node.bearer_token],
        (err, out) => (err ? reject(err) : resolve({ stdout: out })),
      ),
    );
    expect(stdout).toMatch(/^FIRING {2}.*failure_rate/m);
    expect(stdout).toMatch(/^resolved.*low_balance/m);
    expect(stdout).toMatch(/sinks: webhook [1-9]\d* delivered/);
    expect(stdout).not.toContain("127.0.0.1:"); // the sink's URL is a secret
  });
});
