/**
 * Component limits as WAVS means them, under the operator's ceilings. WAVS runs a component with no
 * `time_limit_seconds` or `fuel_limit` unbounded (u64::MAX); a node on Workers must stop somewhere,
 * so the operator sets MAX_TIME_LIMIT_SECONDS (and MAX_FUEL_LIMIT, kept for when fuel is metered).
 * A service asking for more is capped, not refused, and the cap is noted in the task's timeline.
 */
import type { Component } from "../service/types";

export interface RunLimitCeilings {
  /** Wall-clock seconds any run may take (MAX_TIME_LIMIT_SECONDS). */
  maxTimeLimitSeconds: number;
  /** Fuel any run may burn (MAX_FUEL_LIMIT); null: no ceiling. Not metered on Workers yet. */
  maxFuelLimit: bigint | null;
}

/** One limit the service asked for above the operator's ceiling. */
export interface CappedLimit {
  field: "time_limit_seconds" | "fuel_limit";
  asked: string;
  applied: string;
  ceiling: "MAX_TIME_LIMIT_SECONDS" | "MAX_FUEL_LIMIT";
}

export interface RunLimits {
  timeLimitSeconds: number;
  fuelLimit: bigint | null;
  capped: CappedLimit[];
}

/** Default ceiling: 5 minutes, Workers' longest CPU limit. */
export const DEFAULT_MAX_TIME_LIMIT_SECONDS = 300;
/** A queue consumer may run 15 minutes of wall clock; no run may outlast it (and no timer overflows). */
export const MAX_MAX_TIME_LIMIT_SECONDS = 900;
const U64_MAX = (1n << 64n) - 1n;

/**
 * Parses MAX_TIME_LIMIT_SECONDS (1–900, default 300) and MAX_FUEL_LIMIT (a u64; empty: none).
 * @throws Error naming the bad variable
 */
export function parseRunLimitCeilings(vars: {
  MAX_TIME_LIMIT_SECONDS?: string;
  MAX_FUEL_LIMIT?: string;
}): RunLimitCeilings {
  const time = vars.MAX_TIME_LIMIT_SECONDS?.trim() || String(DEFAULT_MAX_TIME_LIMIT_SECONDS);
  const seconds = /^\d{1,4}$/.test(time) ? Number(time) : NaN;
  if (!(seconds >= 1 && seconds <= MAX_MAX_TIME_LIMIT_SECONDS)) {
    throw new Error(`MAX_TIME_LIMIT_SECONDS must be a whole number of seconds from 1 to ${MAX_MAX_TIME_LIMIT_SECONDS}`);
  }
  const fuel = vars.MAX_FUEL_LIMIT?.trim() ?? "";
  if (fuel !== "" && (!/^\d{1,20}$/.test(fuel) || BigInt(fuel) > U64_MAX || BigInt(fuel) === 0n)) {
    throw new Error("MAX_FUEL_LIMIT must be empty or a u64 above 0");
  }
  return { maxTimeLimitSeconds: seconds, maxFuelLimit: fuel === "" ? null : BigInt(fuel) };
}

/**
 * The limits one run gets: the component's own, capped at the ceilings; no time limit means the
 * ceiling (WAVS: unbounded). Works on bigints, so a u64 of 2^64-1 never reaches a timer.
 */
export function applyRunLimits(
  component: Pick<Component, "time_limit_seconds" | "fuel_limit">,
  ceilings: RunLimitCeilings,
): RunLimits {
  const capped: CappedLimit[] = [];
  const maxTime = BigInt(ceilings.maxTimeLimitSeconds);
  const askedTime = component.time_limit_seconds;
  let timeLimitSeconds = ceilings.maxTimeLimitSeconds;
  if (askedTime !== null && askedTime <= maxTime) timeLimitSeconds = Number(askedTime);
  if (askedTime !== null && askedTime > maxTime) {
    capped.push({
      field: "time_limit_seconds",
      asked: askedTime.toString(),
      applied: maxTime.toString(),
      ceiling: "MAX_TIME_LIMIT_SECONDS",
    });
  }
  // No run could meet a limit of 0 s: 1 s is the least a run gets here.
  if (timeLimitSeconds < 1) timeLimitSeconds = 1;

  let fuelLimit = component.fuel_limit;
  const maxFuel = ceilings.maxFuelLimit;
  if (maxFuel !== null && (fuelLimit === null || fuelLimit > maxFuel)) {
    if (fuelLimit !== null)
      capped.push({
        field: "fuel_limit",
        asked: fuelLimit.toString(),
        applied: maxFuel.toString(),
        ceiling: "MAX_FUEL_LIMIT",
      });
    fuelLimit = maxFuel;
  }
  return { timeLimitSeconds, fuelLimit, capped };
}

let cached: { key: string; ceilings: RunLimitCeilings } | undefined;

/** The operator's ceilings, parsed once per isolate. @throws Error naming a bad variable */
export function runLimitCeilings(env: Env): RunLimitCeilings {
  const vars = env as unknown as Record<string, string | undefined>;
  const key = `${vars.MAX_TIME_LIMIT_SECONDS}\u0000${vars.MAX_FUEL_LIMIT}`;
  if (cached?.key !== key) cached = { key, ceilings: parseRunLimitCeilings(vars) };
  return cached.ceilings;
}
