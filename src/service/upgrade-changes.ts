import { sourceDigest } from "./service-json";
import type { Component, Service, Workflow } from "./types";

/**
 * What an upgrade changes that the operator must approve: code the node would run (a workflow's
 * component or aggregator component, a new workflow), the secrets it reads (`env_keys`) and what it
 * may reach (permissions). Anything else (config, triggers, name, status, removed workflows) applies
 * at once. Pure.
 * @returns one line per change, e.g. `workflow "default": component 12ab… → 34cd…`; empty when none
 */
export function changesNeedingApproval(current: Service, next: Service): string[] {
  const changes: string[] = [];
  for (const [id, wf] of Object.entries(next.workflows).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const before = current.workflows[id];
    if (!before) {
      changes.push(`workflow "${id}": added (component ${short(sourceDigest(wf.component.source))})`);
      continue;
    }
    changes.push(...componentChanges(`workflow "${id}"`, before.component, wf.component));
    const [a, b] = [aggregatorOf(before), aggregatorOf(wf)];
    if (a && b) changes.push(...componentChanges(`workflow "${id}" aggregator`, a, b));
    else if (b) changes.push(`workflow "${id}": aggregator added (component ${short(sourceDigest(b.source))})`);
  }
  return changes;
}

function aggregatorOf(wf: Workflow): Component | undefined {
  return wf.submit === "none" ? undefined : wf.submit.aggregator.component;
}

function componentChanges(what: string, before: Component, after: Component): string[] {
  const out: string[] = [];
  const [da, db] = [sourceDigest(before.source), sourceDigest(after.source)];
  if (da !== db) out.push(`${what}: component ${short(da)} → ${short(db)}`);
  const [ka, kb] = [[...before.env_keys].sort(), [...after.env_keys].sort()];
  if (ka.join(",") !== kb.join(",")) out.push(`${what}: env_keys [${ka.join(", ")}] → [${kb.join(", ")}]`);
  const [pa, pb] = [permissionsText(before), permissionsText(after)];
  if (pa !== pb) out.push(`${what}: permissions ${pa} → ${pb}`);
  return out;
}

/** Permissions in a stable form (host lists sorted), so reordering a list is no change. */
function permissionsText(c: Component): string {
  const p = c.permissions;
  const hosts =
    typeof p.allowed_http_hosts === "string" ? p.allowed_http_hosts : { only: [...p.allowed_http_hosts.only].sort() };
  return JSON.stringify({
    allowed_http_hosts: hosts,
    file_system: p.file_system,
    raw_sockets: p.raw_sockets,
    dns_resolution: p.dns_resolution,
  });
}

const short = (digest: string) => `${digest.slice(0, 12)}…`;

/**
 * The AUTO_UPGRADE_SERVICES variable: service ids whose upgrades apply without approval, as a
 * comma-separated or JSON list; `*` for every service; empty for none.
 * @throws Error when an entry is neither `*` nor a 64-hex service id
 */
export function parseAutoUpgradeServices(raw: string | undefined): { all: boolean; ids: Set<string> } {
  const text = raw?.trim() ?? "";
  if (!text) return { all: false, ids: new Set() };
  const list: unknown = text.startsWith("[") ? JSON.parse(text) : text.split(",");
  if (!Array.isArray(list))
    throw new Error("AUTO_UPGRADE_SERVICES must be a comma-separated or JSON list of service ids, or *");
  const entries = list.map((e) => String(e).trim().toLowerCase()).filter(Boolean);
  const bad = entries.find((e) => e !== "*" && !/^[0-9a-f]{64}$/.test(e));
  if (bad !== undefined)
    throw new Error(`AUTO_UPGRADE_SERVICES: "${bad.slice(0, 80)}" is neither * nor a service id (64 hex digits)`);
  return { all: entries.includes("*"), ids: new Set(entries.filter((e) => e !== "*")) };
}
