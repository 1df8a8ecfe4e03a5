/**
 * Building service JSON step by step, as wavs-cli's `service` commands do. A service under
 * construction is not yet valid (no component digest, no manager), so edits work on the raw
 * lossless tree and `validate` checks the result against the node's own schema.
 */
import { CliError } from "./args";

type Json = Record<string, unknown>;
export type DraftService = Json & { name: string; workflows: Record<string, Json> };

const DEFAULT_PERMISSIONS = {
  allowed_http_hosts: "none",
  file_system: false,
  raw_sockets: false,
  dns_resolution: false,
};

/** A new service with no workflows yet. */
export function initService(name: string, manager?: { chain: string; address: string }): DraftService {
  return {
    name,
    workflows: {},
    status: "active",
    ...(manager ? { manager: { evm: { chain: manager.chain, address: manager.address.toLowerCase() } } } : {}),
  };
}

/** A skeleton component: no source yet, WAVS's default permissions and limits. */
function newComponent(): Json {
  return {
    permissions: { ...DEFAULT_PERMISSIONS },
    fuel_limit: null,
    time_limit_seconds: null,
    config: {},
    env_keys: [],
  };
}

/** Adds a workflow with a manual trigger and no submit. @throws CliError on a bad or taken id */
export function addWorkflow(s: DraftService, id: string): DraftService {
  if (!/^[a-z0-9_-]{3,36}$/.test(id)) throw new CliError("workflow ids are 3-36 characters of a-z, 0-9, _ and -", 2);
  if (s.workflows[id]) throw new CliError(`workflow ${id} already exists`, 2);
  return {
    ...s,
    workflows: { ...s.workflows, [id]: { trigger: "manual", component: newComponent(), submit: "none" } },
  };
}

function workflowOf(s: DraftService, id: string): Json {
  const wf = s.workflows[id];
  if (!wf) throw new CliError(`no workflow ${id}; add it with \`service workflow add --id ${id}\``, 2);
  return wf;
}

/** Replaces one workflow's field. */
export function setWorkflowField(
  s: DraftService,
  id: string,
  field: "trigger" | "submit",
  value: unknown,
): DraftService {
  const wf = workflowOf(s, id);
  return { ...s, workflows: { ...s.workflows, [id]: { ...wf, [field]: value } } };
}

/** Edits the workflow's operator component, or its aggregator component with `aggregator`. */
export function editComponent(s: DraftService, id: string, aggregator: boolean, edit: (c: Json) => Json): DraftService {
  const wf = workflowOf(s, id);
  if (!aggregator)
    return { ...s, workflows: { ...s.workflows, [id]: { ...wf, component: edit(wf.component as Json) } } };
  const submit = wf.submit as { aggregator?: Json } | string;
  if (typeof submit !== "object" || !submit.aggregator) {
    throw new CliError(`workflow ${id} has no aggregator; run \`service submit set-aggregator\` first`, 2);
  }
  const agg = submit.aggregator;
  return setWorkflowField(s, id, "submit", { aggregator: { ...agg, component: edit(agg.component as Json) } });
}

/** `--http-hosts '*'` all, `''` none, `a,b` only those: wavs-cli's spelling. */
export function parseHttpHosts(v: string): unknown {
  if (v === "*") return "all";
  if (v.trim() === "") return "none";
  return {
    only: v
      .split(",")
      .map((h) => h.trim())
      .filter(Boolean),
  };
}

/** `k=v,k2=v2` into a record. @throws CliError on an entry without `=` */
export function parseKeyValues(v: string): Record<string, string> {
  return Object.fromEntries(
    v
      .split(",")
      .filter(Boolean)
      .map((kv) => {
        const eq = kv.indexOf("=");
        if (eq <= 0) throw new CliError(`"${kv}" is not key=value`, 2);
        return [kv.slice(0, eq).trim(), kv.slice(eq + 1)];
      }),
  );
}

/** A u64 flag as a bigint, so nanosecond timestamps stay exact. @throws CliError */
export function parseU64(name: string, v: string | undefined): bigint | null {
  if (v === undefined) return null;
  if (!/^\d+$/.test(v) || BigInt(v) >= 1n << 64n) throw new CliError(`--${name} must be a u64`, 2);
  return BigInt(v);
}
