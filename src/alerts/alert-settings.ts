/**
 * The alert thresholds, from wrangler.toml [vars] (documented there and in docs/alerts.md). Parsed
 * once per isolate; a bad value turns that rule off with a logged reason instead of stopping the
 * other rules (an alerting typo must not silence every alert).
 */
export type AlertSettings = Readonly<{
  /** Chain key (or "*") → wei below which the paying key is low; empty: the rule is off. */
  lowBalanceWei: ReadonlyMap<string, bigint>;
  /** A transaction still unconfirmed after this many ms is stuck. */
  txStuckMs: number;
  /** Blocks the poller may trail the chain by, beyond the chain's confirmation depth. */
  chainLagBlocks: number;
  /** Share of a service's tasks (0-1) that may fail in the window before it alerts. */
  failureRate: number;
  /** Tasks a service must have in the window before its failure rate counts. */
  failureMinTasks: number;
  /** Dead-lettered messages tolerated in the window. */
  deadLettersMax: number;
  /** The window of the failure-rate and dead-letter rules, in ms. */
  windowMs: number;
}>;

export type AlertVars = {
  ALERT_LOW_BALANCE_WEI?: string;
  ALERT_TX_STUCK_SECONDS?: string;
  ALERT_CHAIN_LAG_BLOCKS?: string;
  ALERT_FAILURE_RATE?: string;
  ALERT_FAILURE_MIN_TASKS?: string;
  ALERT_DEAD_LETTERS_MAX?: string;
  ALERT_WINDOW_SECONDS?: string;
};

export const DEFAULT_ALERT_SETTINGS: AlertSettings = Object.freeze({
  lowBalanceWei: new Map([["*", 100_000_000_000_000_000n]]), // 0.1 ETH
  txStuckMs: 600_000,
  chainLagBlocks: 100,
  failureRate: 0.5,
  failureMinTasks: 5,
  deadLettersMax: 0,
  windowMs: 900_000,
});

/** What parsing found wrong: the setting's name and why (never its value: it is not secret, but long). */
export type SettingProblem = { name: keyof AlertVars; message: string };

/**
 * The settings the vars describe; a missing var takes its default, a bad one its default too, with
 * a problem reported for the caller to log.
 */
export function parseAlertSettings(vars: AlertVars): { settings: AlertSettings; problems: SettingProblem[] } {
  const problems: SettingProblem[] = [];
  const d = DEFAULT_ALERT_SETTINGS;
  const number = (name: keyof AlertVars, fallback: number, ok: (n: number) => boolean, rule: string) => {
    const raw = vars[name]?.trim();
    if (raw === undefined || raw === "") return fallback;
    const n = Number(raw);
    if (ok(n)) return n;
    problems.push({ name, message: `must be ${rule}` });
    return fallback;
  };
  const whole = (n: number) => Number.isInteger(n) && n >= 0;
  const settings: AlertSettings = Object.freeze({
    lowBalanceWei: parseLowBalance(vars.ALERT_LOW_BALANCE_WEI, problems),
    txStuckMs:
      number("ALERT_TX_STUCK_SECONDS", d.txStuckMs / 1000, (n) => whole(n) && n >= 1, "a whole number of seconds ≥ 1") *
      1000,
    chainLagBlocks: number("ALERT_CHAIN_LAG_BLOCKS", d.chainLagBlocks, whole, "a whole number of blocks"),
    failureRate: number("ALERT_FAILURE_RATE", d.failureRate, (n) => n >= 0 && n <= 1, "a number from 0 to 1"),
    failureMinTasks: number(
      "ALERT_FAILURE_MIN_TASKS",
      d.failureMinTasks,
      (n) => whole(n) && n >= 1,
      "a whole number ≥ 1",
    ),
    deadLettersMax: number("ALERT_DEAD_LETTERS_MAX", d.deadLettersMax, whole, "a whole number"),
    windowMs:
      number(
        "ALERT_WINDOW_SECONDS",
        d.windowMs / 1000,
        (n) => whole(n) && n >= 10 && n <= 86_400,
        "whole seconds from 10 to 86400",
      ) * 1000,
  });
  return { settings, problems };
}

/** `""`/`"0"`: off; a decimal: every chain; JSON `{"evm:1": "…", "*": "…"}`: per chain. */
function parseLowBalance(raw: string | undefined, problems: SettingProblem[]): ReadonlyMap<string, bigint> {
  const text = raw?.trim();
  if (text === undefined) return DEFAULT_ALERT_SETTINGS.lowBalanceWei;
  if (text === "" || text === "0") return new Map();
  const wei = (v: unknown) =>
    (typeof v === "string" || typeof v === "number") && /^\d{1,78}$/.test(String(v)) ? BigInt(v) : undefined;
  if (/^\d+$/.test(text)) {
    const all = wei(text);
    if (all !== undefined) return new Map([["*", all]]);
  } else {
    try {
      const parsed = JSON.parse(text) as unknown;
      if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) {
        const entries = Object.entries(parsed).map(([k, v]) => [k, wei(v)] as const);
        if (entries.every(([k, v]) => v !== undefined && (k === "*" || /^evm:\d+$/.test(k))))
          return new Map(entries as [string, bigint][]);
      }
    } catch {
      // reported below
    }
  }
  problems.push({
    name: "ALERT_LOW_BALANCE_WEI",
    message: 'must be wei as a decimal, or a JSON object {"evm:<id>"|"*": wei}',
  });
  return DEFAULT_ALERT_SETTINGS.lowBalanceWei;
}
