import { integerVar, parsedOncePerIsolate } from "../util/settings-vars";

/**
 * The ChainSubmitter's timers (wrangler.toml [vars], documented there), parsed once per isolate.
 */
export interface SubmitterSettings {
  /** An unmined transaction is replaced with bumped fees after this long (TX_STUCK_AFTER_MS). */
  stuckAfterMs: number;
  /** Fees read from the chain are reused this long for first sends (SUBMIT_FEE_TTL_MS). */
  feeTtlMs: number;
  /** A receipt sweep younger than this answers a task's check (SUBMIT_SWEEP_MS). */
  sweepMs: number;
  /**
   * A send the chain refused for a reason that can pass (the paying key short of funds, fees under
   * the base fee) is held, and the task asks again after this long (SUBMIT_REFUSED_RETRY_MS).
   */
  refusedRetryMs: number;
}

export const SUBMITTER_VARS = [
  "TX_STUCK_AFTER_MS",
  "SUBMIT_FEE_TTL_MS",
  "SUBMIT_SWEEP_MS",
  "SUBMIT_REFUSED_RETRY_MS",
] as const;

type Vars = Partial<Record<(typeof SUBMITTER_VARS)[number], string>>;

/** @throws Error naming the variable that is not an integer in its range */
export function parseSubmitterSettings(vars: Vars): SubmitterSettings {
  const read = (name: keyof Vars, fallback: number, min: number, max: number) =>
    integerVar(vars, name, fallback, min, max);
  return {
    stuckAfterMs: read("TX_STUCK_AFTER_MS", 30_000, 100, 86_400_000),
    feeTtlMs: read("SUBMIT_FEE_TTL_MS", 3_000, 0, 600_000),
    sweepMs: read("SUBMIT_SWEEP_MS", 1_000, 0, 600_000),
    refusedRetryMs: read("SUBMIT_REFUSED_RETRY_MS", 15_000, 100, 3_600_000),
  };
}

/** The node's submitter settings, parsed once per isolate. @throws Error on a bad variable */
export const submitterSettings = parsedOncePerIsolate(SUBMITTER_VARS, parseSubmitterSettings);
