import type { Service } from "./types";

/**
 * The SERVICE_ENV_GRANTS variable: which `WAVS_ENV_*` secrets each service may read. A JSON object
 * from service id (64 hex) to a list of names; the key `*` grants names to every service. A secret
 * is the operator's: a service JSON naming it in `env_keys` does not give it away.
 * Example: `{"76d41f…5d11": ["WAVS_ENV_PRICE_API_KEY"], "*": ["WAVS_ENV_PUBLIC_RPC"]}`.
 */
export type EnvGrants = ReadonlyMap<string, ReadonlySet<string>>;

const NAME = /^WAVS_ENV_[A-Za-z0-9_]+$/;

/**
 * Parses SERVICE_ENV_GRANTS; empty or unset grants nothing.
 * @throws Error naming the bad entry (never a value: the var holds names only)
 */
export function parseEnvGrants(raw: string | undefined): EnvGrants {
  const text = raw?.trim() ?? "";
  if (!text) return new Map();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error("SERVICE_ENV_GRANTS is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error('SERVICE_ENV_GRANTS must be a JSON object: {"<service id>": ["WAVS_ENV_…"], "*": […]}');
  }
  const grants = new Map<string, Set<string>>();
  for (const [key, names] of Object.entries(value)) {
    const id = key.toLowerCase();
    if (id !== "*" && !/^[0-9a-f]{64}$/.test(id))
      throw new Error(`SERVICE_ENV_GRANTS: "${key.slice(0, 80)}" is neither * nor a service id (64 hex digits)`);
    if (!Array.isArray(names) || names.some((n) => typeof n !== "string" || !NAME.test(n))) {
      throw new Error(`SERVICE_ENV_GRANTS["${key.slice(0, 80)}"] must be a list of WAVS_ENV_* names`);
    }
    grants.set(id, new Set([...(grants.get(id) ?? []), ...(names as string[])]));
  }
  return grants;
}

/** Whether `serviceId` may read the secret `name`. */
export function isEnvKeyGranted(grants: EnvGrants, serviceId: string, name: string): boolean {
  return grants.get(serviceId)?.has(name) === true || grants.get("*")?.has(name) === true;
}

/** Every `env_keys` entry of the service (aggregators included) that it was not granted. */
export function ungrantedEnvKeys(
  grants: EnvGrants,
  serviceId: string,
  service: Service,
): { workflow: string; key: string }[] {
  const out: { workflow: string; key: string }[] = [];
  for (const [workflow, wf] of Object.entries(service.workflows)) {
    const keys = [...wf.component.env_keys, ...(wf.submit === "none" ? [] : wf.submit.aggregator.component.env_keys)];
    for (const key of new Set(keys)) if (!isEnvKeyGranted(grants, serviceId, key)) out.push({ workflow, key });
  }
  return out;
}

let cached: { raw: string | undefined; grants: EnvGrants } | undefined;

/** SERVICE_ENV_GRANTS, parsed once per value. @throws Error on a bad value */
export function envGrants(env: Pick<Env, "SERVICE_ENV_GRANTS">): EnvGrants {
  if (cached?.raw !== env.SERVICE_ENV_GRANTS)
    cached = { raw: env.SERVICE_ENV_GRANTS, grants: parseEnvGrants(env.SERVICE_ENV_GRANTS) };
  return cached.grants;
}
