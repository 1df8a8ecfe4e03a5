/**
 * The operator's ceilings on what its paying key (WAVS_AGGREGATOR_EVM_CREDENTIAL) spends: a
 * service's aggregator component picks the gas price and the handler's code sets the gas, so
 * neither may decide alone. Parsed once per isolate from SUBMIT_MAX_GAS_PRICE_WEI,
 * SUBMIT_MAX_GAS_LIMIT and SUBMIT_MAX_SPEND_WEI_PER_SERVICE_HOUR ("0": no ceiling).
 */
export interface SpendingLimits {
  /** Highest max fee per gas (wei) a transaction may offer; 0n: none. */
  maxGasPriceWei: bigint;
  /** Highest gas limit a transaction may carry; 0n: none. */
  maxGasLimit: bigint;
  /** Most wei one service's transactions may commit (gas limit × max fee) per chain in any hour; 0n: none. */
  maxSpendWeiPerServiceHour: bigint;
}

export const SPEND_WINDOW_MS = 60 * 60_000;

const DEFAULTS = {
  SUBMIT_MAX_GAS_PRICE_WEI: "1000000000000",
  SUBMIT_MAX_GAS_LIMIT: "5000000",
  SUBMIT_MAX_SPEND_WEI_PER_SERVICE_HOUR: "10000000000000000000",
};

/** @throws Error naming the variable that is not a non-negative integer */
export function parseSpendingLimits(vars: Partial<Record<keyof typeof DEFAULTS, string>>): SpendingLimits {
  const read = (name: keyof typeof DEFAULTS) => {
    const raw = vars[name]?.trim() || DEFAULTS[name];
    if (!/^\d{1,40}$/.test(raw))
      throw new Error(`${name} must be a non-negative integer (wei or gas; "0": no ceiling)`);
    return BigInt(raw);
  };
  return {
    maxGasPriceWei: read("SUBMIT_MAX_GAS_PRICE_WEI"),
    maxGasLimit: read("SUBMIT_MAX_GAS_LIMIT"),
    maxSpendWeiPerServiceHour: read("SUBMIT_MAX_SPEND_WEI_PER_SERVICE_HOUR"),
  };
}

let cached: { key: string; limits: SpendingLimits } | undefined;

/** The node's limits, parsed once per isolate. @throws Error on a bad variable */
export function spendingLimits(env: Env): SpendingLimits {
  const vars = env as unknown as Record<keyof typeof DEFAULTS, string | undefined>;
  const key = [
    vars.SUBMIT_MAX_GAS_PRICE_WEI,
    vars.SUBMIT_MAX_GAS_LIMIT,
    vars.SUBMIT_MAX_SPEND_WEI_PER_SERVICE_HOUR,
  ].join("\u0000");
  if (cached?.key !== key) cached = { key, limits: parseSpendingLimits(vars) };
  return cached.limits;
}

/** Why a transaction with this gas limit and fixed gas price (if any) may not be sent, or undefined when it may. */
export function exceedsCeiling(limits: SpendingLimits, tx: { gas: bigint; gasPrice?: bigint }): string | undefined {
  if (limits.maxGasLimit > 0n && tx.gas > limits.maxGasLimit) {
    return `gas limit ${tx.gas} exceeds the operator's ceiling SUBMIT_MAX_GAS_LIMIT=${limits.maxGasLimit}`;
  }
  if (limits.maxGasPriceWei > 0n && tx.gasPrice !== undefined && tx.gasPrice > limits.maxGasPriceWei) {
    return `gas price ${tx.gasPrice} wei (the aggregator component's) exceeds the operator's ceiling SUBMIT_MAX_GAS_PRICE_WEI=${limits.maxGasPriceWei}`;
  }
  return undefined;
}

/** EIP-1559 fees from the chain (or a fee bump) held to the gas price ceiling. */
export function capFees(limits: SpendingLimits, fees: { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }) {
  if (limits.maxGasPriceWei === 0n) return fees;
  const cap = (x: bigint) => (x > limits.maxGasPriceWei ? limits.maxGasPriceWei : x);
  return { maxFeePerGas: cap(fees.maxFeePerGas), maxPriorityFeePerGas: cap(fees.maxPriorityFeePerGas) };
}

/** What one service's transactions committed, when (ms since the epoch). */
export type SpendEntry = { at: number; wei: string };

/**
 * Whether `wei` more fits the service's hourly ceiling given what it committed in the last hour;
 * when not, when it will (the oldest entries leave the window).
 */
export function checkSpend(
  limits: SpendingLimits,
  entries: readonly SpendEntry[],
  wei: bigint,
  now: number,
): { ok: true } | { ok: false; reason: string; retryAt: number } {
  const cap = limits.maxSpendWeiPerServiceHour;
  if (cap === 0n) return { ok: true };
  if (wei > cap)
    return {
      ok: false,
      reason: `one transaction may cost up to ${wei} wei, more than SUBMIT_MAX_SPEND_WEI_PER_SERVICE_HOUR=${cap}`,
      retryAt: now + SPEND_WINDOW_MS,
    };
  const live = entries.filter((e) => now - e.at < SPEND_WINDOW_MS).sort((a, b) => a.at - b.at);
  let spent = live.reduce((sum, e) => sum + BigInt(e.wei), 0n);
  if (spent + wei <= cap) return { ok: true };
  // Wait until enough of the oldest entries have left the window.
  for (const e of live) {
    spent -= BigInt(e.wei);
    if (spent + wei <= cap) {
      return {
        ok: false,
        reason: `the service committed ${spent + BigInt(e.wei)} wei in the last hour; ${wei} more exceeds SUBMIT_MAX_SPEND_WEI_PER_SERVICE_HOUR=${cap}`,
        retryAt: e.at + SPEND_WINDOW_MS,
      };
    }
  }
  return { ok: true }; // unreachable: an empty window fits any wei ≤ cap
}
