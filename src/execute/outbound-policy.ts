/**
 * allowed_http_hosts as the outbound gate enforces it. WAVS lists hosts but does not enforce the
 * list; here a request leaves only when its host is granted.
 */
import type { AllowedHttpHosts } from "../service/types";

/** What the gate of one component worker carries (its props): `all`, or the granted hosts. */
export type OutboundPolicy = { all: true } | { only: string[] };

/** Response header by which the gate marks its own refusals (stripped from upstream answers). */
export const GATE_REFUSAL_HEADER = "x-wavs-edge-gate";

/** The gate's policy for a permission; null for `none` (no gate, no network at all). */
export function toOutboundPolicy(hosts: AllowedHttpHosts): OutboundPolicy | null {
  if (hosts === "none") return null;
  if (hosts === "all") return { all: true };
  return { only: [...new Set(hosts.only.map((h) => h.trim().toLowerCase()))].sort() };
}

/** A short stable name of a policy, part of the component worker's id (one gate per worker). */
export function outboundPolicyKey(policy: OutboundPolicy | null): string {
  if (!policy) return "none";
  if ("all" in policy) return "all";
  // FNV-1a over the sorted list: a loader id, not a security boundary (the gate's props are)
  let hash = 0x811c9dc5;
  for (const c of JSON.stringify(policy.only)) hash = Math.imul(hash ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return `only-${policy.only.length}-${hash.toString(16)}`;
}

/**
 * Why the gate refuses a request to `url`, or null when it may leave. An entry grants a host name
 * on any port (`api.example.com`) or one port only (`api.example.com:8443`).
 */
export function refuseOutbound(url: string, policy: OutboundPolicy): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `wavs-edge: refused a request to a malformed URL`;
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    return `wavs-edge: only http and https requests may leave a component (not ${parsed.protocol})`;
  }
  if ("all" in policy) return null;
  const hostname = parsed.hostname.toLowerCase();
  const port = parsed.port || (parsed.protocol === "https:" ? "443" : "80");
  const granted = policy.only.some((entry) => entry === hostname || entry === `${hostname}:${port}`);
  if (granted) return null;
  return `wavs-edge: HTTP host ${parsed.host} is not in the component's allowed_http_hosts (${policy.only.join(", ") || "no hosts"})`;
}
