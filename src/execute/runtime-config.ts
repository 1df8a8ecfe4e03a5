/** Compatibility date of the dynamic workers that run components (same as the node's). */
export const GUEST_COMPATIBILITY_DATE = "2026-04-01";

/** Wall-clock bound of a run when the workflow sets no time_limit_seconds (WAVS's default is 30 s). */
export const DEFAULT_TIME_LIMIT_SECONDS = 30n;
