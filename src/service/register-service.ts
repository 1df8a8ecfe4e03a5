import { eq } from "drizzle-orm";
import { BaseError, ContractFunctionRevertedError, ContractFunctionZeroDataError, parseAbi, sha256 } from "viem";
import { ServiceError, unreachable } from "./service-error";
import { publicClientFor } from "../chain/rpc";
import { chainByKey } from "../config";
import { openDb } from "../db/client";
import { cronCursors, savedServices } from "../db/schema";
import { getStoredComponent, InvalidComponentError } from "../execute/component-store";
import { prepareInBackground } from "../execute/load-component";
import { computeServiceId } from "./event-id";
import { envGrants, ungrantedEnvKeys } from "./env-grants";
import { parseServiceJson, sourceDigest, stringifyServiceJson } from "./service-json";
import {
  ensureSigningKey,
  findService,
  insertService,
  replaceService,
  type RegisteredService,
} from "./service-registry";
import { ensureComponentStored, refuseUnfetchableSources } from "./sources/component-sources";
import { fetchServiceJson } from "./sources/service-uri";
import { sourceSettings } from "./sources/source-settings";
import type { Component, Service, ServiceManager } from "./types";

const managerAbi = parseAbi(["function getServiceURI() view returns (string)"]);

/**
 * Registers the service a manager contract points to, as WAVS's `POST /services`: reads the URI
 * from the manager, fetches the service JSON, makes sure every component is stored (downloading and
 * checking its digest when needed), indexes its triggers and reserves its signing key.
 * @throws ServiceError 404 unknown chain or manager, 422 bad service JSON or mismatched manager, 409
 *   already registered, 502 unreachable chain or URI
 */
export async function registerService(env: Env, manager: ServiceManager): Promise<{ serviceId: string }> {
  await refuseRegistered(env, manager);
  const service = await fetchServiceFromManager(env, manager);
  return registerParsedService(env, service);
}

/**
 * Registers service JSON saved with `POST /dev/services`, without a manager contract in between.
 * @throws ServiceError 404 no such saved JSON, 409 already registered, 422/502 as registerService
 */
export async function registerSavedService(env: Env, hash: string): Promise<{ serviceId: string; service: Service }> {
  const row = await openDb(env.DB).query.savedServices.findFirst({ where: eq(savedServices.hash, hash) });
  if (!row) throw new ServiceError(404, "service_not_found", `no saved service with hash ${hash}`);
  const service = parseServiceJson(row.json);
  await refuseRegistered(env, service.manager);
  return { ...(await registerParsedService(env, service)), service };
}

/** A service upgrade fetched and checked, not applied yet. */
export interface PreparedUpgrade {
  serviceId: string;
  current: RegisteredService;
  service: Service;
  /** false when the JSON at the URI is the service as registered (its own URI read back) */
  changed: boolean;
}

/**
 * Fetches the service JSON at `uri` (the manager emitted ServiceURIUpdated), checks it names the
 * same manager, and stores and checks every component it needs, without touching the registered
 * service: the caller decides whether it applies now, waits for approval, or is retried.
 * @throws ServiceError 404 service not registered or component missing, 422 bad service JSON, a
 *   different manager or bytes that are not the component the workflow needs, 502 URI or
 *   component download unreachable (worth retrying)
 */
export async function prepareUpgrade(env: Env, manager: ServiceManager, uri: string): Promise<PreparedUpgrade> {
  const serviceId = computeServiceId(manager);
  const current = await findService(openDb(env.DB), serviceId);
  if (!current) {
    throw new ServiceError(404, "service_not_found", "this service manager is not registered here");
  }
  const service = parseServiceJson(await fetchServiceJson(env, uri));
  if (computeServiceId(service.manager) !== serviceId) {
    throw new ServiceError(422, "manager_mismatch", "the service JSON names a different service manager");
  }
  // The URI a service was registered from is seen again as it is read back from the chain.
  if (stringifyServiceJson(service) === stringifyServiceJson(current.service))
    return { serviceId, current, service, changed: false };
  refuseUnfetchableSources(service, sourceSettings(env));
  assertEnvKeysGranted(env, service);
  for (const component of componentsOf(service)) await ensureComponentStored(env, component);
  await assertComponentRoles(env, service);
  return { serviceId, current, service, changed: true };
}

/**
 * Swaps the registered service's workflows and status for `service`, keeping its signing key (as
 * WAVS does); new cron workflows count from now, not from the service's first registration.
 * @throws ServiceError 404 when the service was unregistered meanwhile
 */
export async function applyUpgrade(env: Env, service: Service, now = Date.now()): Promise<void> {
  const db = openDb(env.DB);
  if (!(await replaceService(db, service, now)))
    throw new ServiceError(404, "service_not_found", "the service was unregistered meanwhile");
  const serviceId = computeServiceId(service.manager);
  for (const [workflowId, wf] of Object.entries(service.workflows)) {
    if (typeof wf.trigger === "object" && "cron" in wf.trigger) {
      await db
        .insert(cronCursors)
        .values({ serviceId, workflowId, afterNs: (BigInt(now) * 1_000_000n).toString(), updatedAt: now })
        .onConflictDoNothing();
    }
  }
  prepareComponents(env, service, "upgrade");
}

/**
 * A service reads only the WAVS_ENV_ secrets the operator granted it (SERVICE_ENV_GRANTS): one
 * naming another is refused whole, with the names, never a value.
 * @throws ServiceError 422 `env_key_not_granted`, 500 `bad_config` when SERVICE_ENV_GRANTS does not parse
 */
export function assertEnvKeysGranted(env: Pick<Env, "SERVICE_ENV_GRANTS">, service: Service): void {
  let grants: ReturnType<typeof envGrants>;
  try {
    grants = envGrants(env);
  } catch (e) {
    // retried: the operator may fix the var meanwhile
    throw new ServiceError(500, "bad_config", (e as Error).message, { retryable: true });
  }
  const serviceId = computeServiceId(service.manager);
  const missing = ungrantedEnvKeys(grants, serviceId, service);
  if (missing.length === 0) return;
  const first = missing[0]!;
  throw new ServiceError(
    422,
    "env_key_not_granted",
    `workflow ${first.workflow} lists ${first.key} in env_keys, which the operator has not granted to service ${serviceId} (SERVICE_ENV_GRANTS)${missing.length > 1 ? `; ${missing.length - 1} more in details` : ""}`,
    { details: { service_id: serviceId, not_granted: missing } },
  );
}

/**
 * Every workflow's component must be an operator component and its aggregator an aggregator one:
 * bytes that match their digest but are no such component are refused before they replace anything.
 * @throws ServiceError 422 `not_a_component` or `wrong_component_kind`, 404 when one is not stored
 */
async function assertComponentRoles(env: Env, service: Service): Promise<void> {
  for (const [workflowId, wf] of Object.entries(service.workflows)) {
    const roles: [Component, "operator" | "aggregator"][] = [[wf.component, "operator"]];
    if (wf.submit !== "none") roles.push([wf.submit.aggregator.component, "aggregator"]);
    for (const [component, world] of roles) {
      const digest = sourceDigest(component.source);
      let stored: Awaited<ReturnType<typeof getStoredComponent>>;
      try {
        stored = await getStoredComponent(env, digest);
      } catch (e) {
        if (e instanceof InvalidComponentError)
          throw new ServiceError(
            422,
            "not_a_component",
            `workflow ${workflowId}: ${digest} is not a component: ${e.message}`,
          );
        throw e;
      }
      if (!stored) throw new ServiceError(422, "component_missing", `component ${digest} is not uploaded to this node`);
      if (stored.world !== world) {
        throw new ServiceError(
          422,
          "wrong_component_kind",
          `workflow ${workflowId}: ${digest} is an ${stored.world} component where an ${world} component is needed`,
        );
      }
    }
  }
}

/** Stores components, the service, its trigger index and its signing key. */
async function registerParsedService(env: Env, service: Service): Promise<{ serviceId: string }> {
  refuseUnfetchableSources(service, sourceSettings(env));
  assertEnvKeysGranted(env, service);
  for (const component of componentsOf(service)) await ensureComponentStored(env, component);
  await assertComponentRoles(env, service);
  const db = openDb(env.DB);
  if (!(await insertService(db, service))) throw alreadyRegistered();
  const { serviceId } = await ensureSigningKey(db, env.WAVS_SIGNING_MNEMONIC, service.manager);
  prepareComponents(env, service, "registration");
  return { serviceId };
}

/** Transpiles the service's components in the background (downloaded ones were never prepared;
 * uploaded ones usually were, which costs one R2 HEAD), so that the first trigger only loads them. */
function prepareComponents(env: Env, service: Service, reason: string): void {
  prepareInBackground(
    env,
    componentsOf(service).map((c) => sourceDigest(c.source)),
    reason,
  );
}

/** Checked first so a duplicate never downloads anything; insertService checks again atomically. */
async function refuseRegistered(env: Env, manager: ServiceManager): Promise<void> {
  if (await findService(openDb(env.DB), computeServiceId(manager))) throw alreadyRegistered();
}

const alreadyRegistered = () => new ServiceError(409, "service_exists", "this service manager is already registered");

/** The service JSON the manager's URI points to, validated against the manager it came from. */
async function fetchServiceFromManager(env: Env, manager: ServiceManager): Promise<Service> {
  const chain = await chainByKey(env, manager.evm.chain).catch((e: unknown) => {
    throw new ServiceError(404, "unknown_chain", (e as Error).message);
  });

  let uri: string;
  try {
    uri = await publicClientFor(chain).readContract({
      address: manager.evm.address,
      abi: managerAbi,
      functionName: "getServiceURI",
    });
  } catch (e) {
    // No code at the address, or code that is not a service manager: the caller named the wrong
    // contract. Anything else (transport, timeouts) is the chain's fault.
    if (isNotAManager(e)) {
      throw new ServiceError(
        404,
        "unknown_manager",
        `${manager.evm.address} on ${manager.evm.chain} is not a service manager`,
      );
    }
    throw unreachable(
      "manager_unreachable",
      `could not read getServiceURI() from ${manager.evm.address} on ${manager.evm.chain}`,
    );
  }
  if (!uri) throw new ServiceError(404, "no_service_uri", "the service manager has no service URI set");

  const service = parseServiceJson(await fetchServiceJson(env, uri));
  if (computeServiceId(service.manager) !== computeServiceId(manager)) {
    throw new ServiceError(422, "manager_mismatch", "the service JSON names a different service manager");
  }
  return service;
}

function isNotAManager(e: unknown): boolean {
  return (
    e instanceof BaseError &&
    e.walk(
      (inner) => inner instanceof ContractFunctionZeroDataError || inner instanceof ContractFunctionRevertedError,
    ) !== null
  );
}

function componentsOf(service: Service): Component[] {
  return Object.values(service.workflows).flatMap((wf) =>
    wf.submit === "none" ? [wf.component] : [wf.component, wf.submit.aggregator.component],
  );
}

/** Saves service JSON for `/dev/services/{hash}` and returns its hash (sha256 of the bytes). */
export async function saveServiceJson(env: Env, text: string): Promise<string> {
  // refuse what could never be registered; throws ServiceJsonError, or ServiceError for a source URI
  refuseUnfetchableSources(parseServiceJson(text), sourceSettings(env));
  const hash = sha256(new TextEncoder().encode(text)).slice(2);
  await openDb(env.DB).insert(savedServices).values({ hash, json: text, savedAt: Date.now() }).onConflictDoNothing();
  return hash;
}
