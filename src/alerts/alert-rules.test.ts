import { describe, expect, it } from "vitest";
import { evaluateAlertRules, formatEther, planAlertTransitions, type AlertSnapshot } from "./alert-rules";
import { DEFAULT_ALERT_SETTINGS, parseAlertSettings } from "./alert-settings";

const quiet: AlertSnapshot = {
  now: 1_000_000_000,
  chains: [{ chain: "evm:1", head: 100, nextBlock: 98, confirmations: 2 }],
  balances: [{ chain: "evm:1", address: "0xaa", wei: 10n ** 18n, readAt: 1 }],
  pendingTxs: [{ eventId: "0x01", serviceId: "s1", sentAt: 1_000_000_000 - 1_000 }],
  serviceTasks: [{ serviceId: "s1", total: 10, failed: 5 }],
  deadLetters: [{ queue: "triggers", count: 0 }],
  refusedUpgrades: [],
};
const keys = (s: AlertSnapshot, settings = DEFAULT_ALERT_SETTINGS) => evaluateAlertRules(s, settings).map((c) => c.key);

describe("evaluateAlertRules", () => {
  it("raises nothing for a healthy node (a 50% failure rate is not above the 50% threshold)", () => {
    expect(keys(quiet)).toEqual([]);
  });

  it("raises low balance per chain under the chain's own threshold, else the default", () => {
    const { settings } = parseAlertSettings({ ALERT_LOW_BALANCE_WEI: '{"evm:1":"2000000000000000000","*":"1"}' });
    const s = { ...quiet, balances: [...quiet.balances, { chain: "evm:2", address: "0xaa", wei: 5n, readAt: 1 }] };
    const found = evaluateAlertRules(s, settings);
    expect(found.map((c) => c.key)).toEqual(["low_balance:evm:1"]);
    expect(found[0]!.summary).toBe("paying key 0xaa on evm:1 holds 1 ETH, below 2");
    expect(keys({ ...quiet, balances: [{ ...quiet.balances[0]!, wei: 0n }] })).toEqual(["low_balance:evm:1"]);
    expect(
      keys(
        { ...quiet, balances: [{ ...quiet.balances[0]!, wei: 0n }] },
        parseAlertSettings({ ALERT_LOW_BALANCE_WEI: "" }).settings,
      ),
    ).toEqual([]);
  });

  it("raises one tx_stuck for all transactions past the bound, naming the oldest", () => {
    const s = {
      ...quiet,
      pendingTxs: [
        { eventId: "0x02", serviceId: "s1", sentAt: quiet.now - 700_000 },
        { eventId: "0x03", serviceId: "s2", sentAt: quiet.now - 900_000 },
      ],
    };
    const [c] = evaluateAlertRules(s, DEFAULT_ALERT_SETTINGS);
    expect(c).toMatchObject({ key: "tx_stuck", labels: { count: "2", event_id: "0x03" } });
  });

  it("tells a chain whose RPC is down from one the poller trails beyond its confirmations", () => {
    expect(keys({ ...quiet, chains: [{ chain: "evm:1", head: null, nextBlock: 5, confirmations: 0 }] })).toEqual([
      "chain_down:evm:1",
    ]);
    expect(keys({ ...quiet, chains: [{ chain: "evm:1", head: 300, nextBlock: 199, confirmations: 2 }] })).toEqual([]);
    expect(keys({ ...quiet, chains: [{ chain: "evm:1", head: 300, nextBlock: 198, confirmations: 2 }] })).toEqual([
      "chain_lagging:evm:1",
    ]);
  });

  it("raises failure rate only above the threshold and with enough tasks", () => {
    expect(keys({ ...quiet, serviceTasks: [{ serviceId: "s1", total: 10, failed: 6 }] })).toEqual(["failure_rate:s1"]);
    expect(keys({ ...quiet, serviceTasks: [{ serviceId: "s1", total: 4, failed: 4 }] })).toEqual([]);
    const one = parseAlertSettings({ ALERT_FAILURE_MIN_TASKS: "1" }).settings;
    expect(
      evaluateAlertRules({ ...quiet, serviceTasks: [{ serviceId: "s1", total: 1, failed: 1 }] }, one)[0],
    ).toMatchObject({ severity: "critical" });
  });

  it("raises dead letters above the tolerated count, and a refused upgrade per service", () => {
    const s = {
      ...quiet,
      deadLetters: [{ queue: "triggers", count: 2 }],
      refusedUpgrades: [{ serviceId: "s9", upgradeId: 7, status: "refused" }],
    };
    expect(keys(s)).toEqual(["dead_letters", "upgrade_refused:s9"]);
    expect(keys(s, parseAlertSettings({ ALERT_DEAD_LETTERS_MAX: "2" }).settings)).toEqual(["upgrade_refused:s9"]);
  });
});

describe("planAlertTransitions", () => {
  it("starts conditions without an open alert and clears open alerts whose condition is gone", () => {
    const [low, stuck] = evaluateAlertRules(
      {
        ...quiet,
        balances: [{ ...quiet.balances[0]!, wei: 0n }],
        pendingTxs: [{ eventId: "0x1", serviceId: "s", sentAt: 0 }],
      },
      DEFAULT_ALERT_SETTINGS,
    );
    const plan = planAlertTransitions(
      [
        { key: "tx_stuck", id: 1 },
        { key: "chain_down:evm:1", id: 2 },
      ],
      [low!, stuck!],
    );
    expect(plan.start.map((c) => c.key)).toEqual(["low_balance:evm:1"]);
    expect(plan.clear).toEqual([{ key: "chain_down:evm:1", id: 2 }]);
  });
});

describe("parseAlertSettings", () => {
  it("keeps the default for a bad value and names the setting", () => {
    const { settings, problems } = parseAlertSettings({
      ALERT_FAILURE_RATE: "2",
      ALERT_LOW_BALANCE_WEI: "{bad",
      ALERT_WINDOW_SECONDS: "60",
    });
    expect(settings.failureRate).toBe(0.5);
    expect(settings.lowBalanceWei.get("*")).toBe(10n ** 17n);
    expect(settings.windowMs).toBe(60_000);
    expect(problems.map((p) => p.name)).toEqual(["ALERT_LOW_BALANCE_WEI", "ALERT_FAILURE_RATE"]);
  });
  it("formats wei as ether", () => {
    expect(formatEther(1_500_000_000_000_000_000n)).toBe("1.5");
    expect(formatEther(1n)).toBe("0");
  });
});
