/**
 * The dashboard at `/` in a real browser (Debian's chromium driven by playwright-core) against a
 * running local network with a landed task: services, tasks with timelines, SVG charts, chains.
 * Chromium must be installed (`.ci/run` installs it); without it this test fails, never skips.
 */
import { existsSync, writeFileSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";
import { createTestClient, http, parseEther, type Address } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addTrigger } from "../../devnet/index";
import { startDevnet, type RunningDevnet } from "../../devnet/index";
import { waitForResult } from "../../devnet/index";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

let running: RunningDevnet;
let browser: Browser;
let eventId: string;
let failedEventId: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`chromium not found at ${CHROMIUM}: apt-get install -y chromium`);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  running = await startDevnet({
    anvilPort: 0,
    nodePort: 0, // random ports: other test files run devnets at once
    // The page refreshes every second; the paying key alerts below 1 ETH (the test drains it).
    extraVars: { DASHBOARD_REFRESH_SECONDS: "1", ALERT_LOW_BALANCE_WEI: "1000000000000000000" },
  });
  const { devnet } = running;
  const { triggerId } = await addTrigger({
    rpcUrl: devnet.chain.rpc_url,
    account: privateKeyToAccount(devnet.accounts.trigger_private_key),
    trigger: devnet.contracts.trigger,
    data: new TextEncoder().encode('{"x":4}'),
  });
  eventId = (await waitForResult({ rpcUrl: devnet.chain.rpc_url, submit: devnet.contracts.submit, triggerId })).eventId;
  // A trigger the component refuses (square throws on input that is not JSON): a failed execution.
  await addTrigger({
    rpcUrl: devnet.chain.rpc_url,
    account: privateKeyToAccount(devnet.accounts.trigger_private_key),
    trigger: devnet.contracts.trigger,
    data: new TextEncoder().encode("not json"),
  });
  for (let i = 0; i < 300 && !failedEventId; i++) {
    const { tasks } = (await (await fetch(`${devnet.nodes[0]!.url}/tasks?status=failed`)).json()) as {
      tasks: { eventId: string }[];
    };
    failedEventId = tasks[0]?.eventId ?? "";
    if (!failedEventId) await new Promise((r) => setTimeout(r, 300));
  }
  if (!failedEventId) throw new Error("the failing trigger never produced a failed task");
  // The receipt is recorded just after the result is readable onchain.
  for (let i = 0; i < 50; i++) {
    const task = (await (await fetch(`${devnet.nodes[0]!.url}/tasks/${eventId}`)).json()) as { status: string };
    if (task.status === "landed") break;
    await new Promise((r) => setTimeout(r, 200));
  }
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await running?.stop();
});

describe("dashboard at /", () => {
  it("shows alerts on top, services, the landed task with its timeline, latency, error and per-minute charts, chains; refreshes in place", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("requestfailed", (r) => errors.push(`request failed: ${r.url()}`));
    const res = await page.goto(running.devnet.nodes[0]!.url + "/");
    expect(res?.status()).toBe(200);
    expect(await page.title()).toBe("wavs-edge node");

    const services = page.locator("#services");
    await expect(services.textContent()).resolves.toContain("wavs-edge demo: square");
    expect(await services.textContent()).toContain("evm_contract_event");

    const row = page.locator("#tasks tr", { hasText: eventId.slice(0, 12) });
    expect(await row.count()).toBe(1);
    expect(await row.locator(".status").textContent()).toBe("landed");
    expect(await row.locator("svg.timeline circle").count()).toBe(5);
    expect(await row.textContent()).toContain("executed → signature_received → quorum_reached → tx_sent → landed");

    // Charts are inline SVG with a bar per stage; the execute bar has a width (a real duration).
    const bars = page.locator("#latency svg rect.bar");
    expect(await bars.count()).toBe(4);
    expect(Number(await bars.first().getAttribute("data-value"))).toBeGreaterThan(0);
    expect(await page.locator("#errors svg").count()).toBe(2);
    // The failed execution: its row, a red dot on its timeline, and a bar in the errors chart.
    const failedRow = page.locator("#tasks tr", { hasText: failedEventId.slice(0, 12) });
    expect(await failedRow.locator(".status").textContent()).toBe("failed");
    expect(await failedRow.textContent()).toContain("input is not JSON");
    expect(await failedRow.locator("svg.timeline circle.fail").count()).toBe(1);
    const failedBar = page.locator("#errors svg").first().locator("rect.bar");
    expect(await failedBar.count()).toBe(1);
    expect(await failedBar.getAttribute("data-value")).toBe("1");
    expect(await page.locator("#errors svg").first().textContent()).toContain("execution_failed");
    // Polled: the page refreshes its parts in place, and a bar replaced between finding it and reading
    // its style reads as "" (a detached element has no computed style).
    await expect
      .poll(() =>
        bars
          .first()
          .evaluate(
            (el) =>
              (globalThis as unknown as { getComputedStyle(e: unknown): { fill: string } }).getComputedStyle(el).fill,
          ),
      )
      .toBe("rgb(59, 130, 246)");

    const chain = page.locator("#chains tr", { hasText: running.devnet.chain.key });
    expect(await chain.locator("td.ok").textContent()).toBe("up");

    // Activity: the landed and the failed task in the last hour's per-minute columns.
    const minutes = page.locator("#activity svg.per-minute g.minute");
    expect(await minutes.count()).toBe(60);
    const sum = async (attr: string) =>
      (await minutes.evaluateAll((gs, a) => gs.map((g) => Number(g.getAttribute(a))), attr)).reduce((x, y) => x + y, 0);
    expect(await sum("data-landed")).toBe(1);
    expect(await sum("data-failed")).toBe(1);

    // Alerts at the top, refreshed in place: drain the paying key and the low-balance alert appears
    // without a reload (a marker set on the page survives).
    expect(await page.locator("main > section").first().getAttribute("id")).toBe("alerts");
    await page.evaluate(() => ((globalThis as unknown as { notReloaded: boolean }).notReloaded = true));
    const anvil = createTestClient({ mode: "anvil", transport: http(running.devnet.chain.rpc_url) });
    await anvil.setBalance({ address: running.nodes[0]!.submitter as Address, value: parseEther("0.5") });
    const alert = page.locator(`#alerts .alert[data-key="low_balance:${running.devnet.chain.key}"]`);
    await alert.waitFor({ timeout: 30_000 });
    expect(await alert.textContent()).toContain("holds 0.5 ETH, below 1");
    expect(await page.evaluate(() => (globalThis as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    expect(await page.locator("header").textContent()).toContain("1 alert(s) firing");

    // Screenshot check: a full-size PNG with real content (a blank page compresses to a few KB).
    const png = await page.screenshot({ fullPage: true });
    if (process.env.DASHBOARD_SCREENSHOT) writeFileSync(process.env.DASHBOARD_SCREENSHOT, png);
    expect(png.subarray(1, 4).toString()).toBe("PNG");
    expect(png.readUInt32BE(16)).toBe(1280);
    expect(png.readUInt32BE(20)).toBeGreaterThan(600);
    expect(png.length).toBeGreaterThan(30_000);
    const blank = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await blank.setContent("<html><body></body></html>");
    expect(png.length).toBeGreaterThan(5 * (await blank.screenshot({ fullPage: true })).length);
    expect(errors).toEqual([]);
  });

  it("counts the failed execution in /metrics and shows it in /tasks/{eventId}", async () => {
    const url = running.devnet.nodes[0]!.url;
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain('wavs_executions_total{result="ok"} 1\n');
    expect(metrics).toContain('wavs_executions_total{result="failed"} 1\n');
    expect(metrics).toContain('wavs_tasks{status="failed"} 1\n');
    const task = (await (await fetch(`${url}/tasks/${failedEventId}`)).json()) as {
      status: string;
      error: string;
      steps: { step: string; detail: { kind: string } }[];
    };
    expect(task.status).toBe("failed");
    expect(task.error).toContain("input is not JSON");
    expect(task.steps.map((s) => s.step)).toEqual(["execution_failed"]);
    expect(task.steps[0]!.detail.kind).toBe("component-error");
  });

  it("serves the interactive API page: every generated operation listed, and one sent from the page", async () => {
    const url = running.devnet.nodes[0]!.url;
    const doc = (await (await fetch(`${url}/api-docs/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const operations = Object.values(doc.paths).reduce((n, ops) => n + Object.keys(ops).length, 0);
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${url}/api-docs`);
    await page.locator("details.op").first().waitFor();
    expect(await page.locator("details.op").count()).toBe(operations);
    const health = page.locator("details.op", { hasText: "/health" }).first();
    await health.locator("summary").click();
    await health.locator("button").click();
    await expect
      .poll(() => health.locator("pre.out").textContent(), { timeout: 30_000 })
      .toMatch(/^200 OK\n\{"timestamp"/);
    expect(errors).toEqual([]);
  });

  it("answers JSON clients at / with where to look", async () => {
    const res = await fetch(running.devnet.nodes[0]!.url + "/", { headers: { accept: "application/json" } });
    expect(await res.json()).toMatchObject({ name: "wavs-edge", metrics: "/metrics", api_docs: "/api-docs" });
  });
});
