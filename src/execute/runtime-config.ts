/** Compatibility date of the dynamic workers that run components (same as the node's). */
export const GUEST_COMPATIBILITY_DATE = "2026-04-01";
