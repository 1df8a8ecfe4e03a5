import { decodeEventLog, keccak256, parseAbi, toBytes, type Hex } from "viem";
import { ServiceError } from "../service/service-error";
import { openDb, type Db } from "../db/client";
import { describeError, log } from "../log";
import { applyUpgrade, assertEnvKeysGranted, prepareUpgrade, type PreparedUpgrade } from "../service/register-service";
import { stringifyServiceJson, parseServiceJson } from "../service/service-json";
import {
  dueUpgradeRetries,
  findUpgrade,
  findUpgradeByEventKey,
  insertUpgrade,
  supersedePendingUpgrades,
  updateUpgrade,
  type ServiceUpgradeRow,
} from "../service/service-upgrade-store";
import { changesNeedingApproval, parseAutoUpgradeServices } from "../service/upgrade-changes";
import type { ServiceManager } from "../service/types";
import { computeServiceId } from "../service/event-id";
import type { ChainLog } from "./log-to-trigger-data";
import { logEventKey } from "./log-to-trigger-data";
import { isRetryable, WavsError } from "../util/errors";
import { wholeNumberSetting } from "../util/whole-number-setting";
import { recordDroppedEvents } from "./record-dropped-events";

const serviceUriUpdatedAbi = parseAbi(["event ServiceURIUpdated(string serviceURI)"]);

/** topic0 of IWavsServiceManager's `ServiceURIUpdated(string)`. */
export const SERVICE_URI_UPDATED_TOPIC = keccak256(toBytes("ServiceURIUpdated(string)"));

/** One attempt (fetch the JSON, download components) may hold the poller this long at most. */
export const UPGRADE_ATTEMPT_TIMEOUT_MS = 15_000;
/** First retry delay when UPGRADE_RETRY_MS is unset; each retry doubles it, up to MAX_RETRY_DELAY_MS. */
export const DEFAULT_UPGRADE_RETRY_MS = 60_000;
export const MAX_RETRY_DELAY_MS = 60 * 60_000;
/** After this many failed attempts (about 8 hours with the default delay) the upgrade is given up. */
export const MAX_UPGRADE_ATTEMPTS = 12;
/** Retries one scheduled run makes at most, so a pile of dead URIs cannot stretch a run. */
const RETRIES_PER_RUN = 5;

/** The new URI a ServiceURIUpdated log carries, or undefined when the log is not one. */
export function readServiceUriUpdated(log: Pick<ChainLog, "topics" | "data">): string | undefined {
  if (log.topics[0]?.toLowerCase() !== SERVICE_URI_UPDATED_TOPIC) return undefined;
  try {
    return decodeEventLog({ abi: serviceUriUpdatedAbi, topics: log.topics as [Hex, ...Hex[]], data: log.data }).args
      .serviceURI;
  } catch {
    return undefined;
  }
}

/** Handles one ServiceURIUpdated log; the poller calls it before moving its cursor past the log. */
export type ServiceUriUpdateHandler = (chain: string, log: ChainLog, uri: string) => Promise<void>;

export interface UpgradeOptions {
  /** How long one attempt may take (default UPGRADE_ATTEMPT_TIMEOUT_MS). */
  attemptTimeoutMs?: number;
}

/** What one attempt at an upgrade came to. */
export type UpgradeOutcome =
  | { kind: "unchanged" }
  | { kind: "applied" }
  | { kind: "awaiting_approval"; json: string; changes: string[] }
  | { kind: "refused"; reason: string }
  | { kind: "retry"; reason: string };

/**
 * Whether a failed attempt is worth retrying, as the error says (isRetryable): the service owner's
 * own mistakes (bad JSON, another manager, a digest that does not match, bytes that are no
 * component, too large) are refused for good; the network's (unreachable, a timeout) and anything
 * unexpected are retried. The reason starts with the error's code.
 */
export function classifyUpgradeFailure(e: unknown): { kind: "refused" | "retry"; reason: string } {
  const kind = isRetryable(e) ? "retry" : "refused";
  // Bytes refused on upload are `invalid_component`; here they came from the service owner's URI.
  if (e instanceof WavsError && e.code === "invalid_component")
    return { kind, reason: `not_a_component: ${e.message}` };
  if (e instanceof WavsError) return { kind, reason: `${e.code}: ${e.message}` };
  return { kind, reason: `upgrade_failed: ${describeError(e)}` };
}

/** Delay before retry number `attempts` (1-based): base, 2×base, 4×base, … capped at an hour. */
export function upgradeRetryDelayMs(attempts: number, baseMs: number): number {
  return Math.min(baseMs * 2 ** Math.max(0, attempts - 1), MAX_RETRY_DELAY_MS);
}

/** UPGRADE_RETRY_MS (≥ 100), or the default when unset or not a number. */
export function upgradeRetryBaseMs(raw: string | undefined): number {
  return wholeNumberSetting(raw, 100, Number.MAX_SAFE_INTEGER, DEFAULT_UPGRADE_RETRY_MS);
}

/** When retry number `attempts` is due, after a failure at `at`. */
function nextAttemptAt(env: Pick<Env, "UPGRADE_RETRY_MS">, attempts: number, at: number): number {
  return at + upgradeRetryDelayMs(attempts, upgradeRetryBaseMs(env.UPGRADE_RETRY_MS));
}

/** Whether the operator lets this service's upgrades apply without approval (AUTO_UPGRADE_SERVICES). */
export function autoUpgrades(env: Pick<Env, "AUTO_UPGRADE_SERVICES">, serviceId: string): boolean {
  try {
    const auto = parseAutoUpgradeServices(env.AUTO_UPGRADE_SERVICES);
    return auto.all || auto.ids.has(serviceId);
  } catch (e) {
    // A typo must not open the door: nothing is automatic until it is fixed.
    log("error", "bad AUTO_UPGRADE_SERVICES, every upgrade needs approval", {
      subsys: "ingest",
      error: describeError(e),
    });
    return false;
  }
}

/** One attempt ran out of time: the network may be quicker next time. */
class UpgradeTimeoutError extends WavsError {
  override name = "UpgradeTimeoutError";
  constructor(message: string) {
    super("upgrade_timeout", message, { retryable: true });
  }
}

async function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new UpgradeTimeoutError(`fetching the service and its components took over ${ms / 1000} s`)),
      ms,
    );
  });
  // The work goes on after a deadline (fetch has no handle here): its late failure is nobody's.
  work.catch(() => {});
  try {
    return await Promise.race([work, deadline]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

/**
 * Fetches and checks the upgrade, then applies it, or keeps it for the operator when it changes
 * code, secrets or network reach and the service is not on AUTO_UPGRADE_SERVICES. Never throws:
 * every failure becomes an outcome. `beforeApply` lets a retry check its row is still current.
 */
export async function attemptUpgrade(
  env: Env,
  manager: ServiceManager,
  uri: string,
  options: UpgradeOptions = {},
  beforeApply: () => Promise<boolean> = async () => true,
): Promise<UpgradeOutcome> {
  let prepared: PreparedUpgrade;
  try {
    prepared = await withDeadline(
      prepareUpgrade(env, manager, uri),
      options.attemptTimeoutMs ?? UPGRADE_ATTEMPT_TIMEOUT_MS,
    );
  } catch (e) {
    return classifyUpgradeFailure(e);
  }
  if (!prepared.changed) return { kind: "unchanged" };
  const changes = changesNeedingApproval(prepared.current.service, prepared.service);
  if (changes.length > 0 && !autoUpgrades(env, prepared.serviceId)) {
    return { kind: "awaiting_approval", json: stringifyServiceJson(prepared.service), changes };
  }
  if (!(await beforeApply())) return { kind: "unchanged" };
  try {
    await applyUpgrade(env, prepared.service);
  } catch (e) {
    return classifyUpgradeFailure(e);
  }
  return { kind: "applied" };
}

/**
 * The poller's handler: one attempt, bounded in time, then the cursor moves on whatever happened.
 * A transient failure is left for `retryPendingUpgrades`; a refusal is recorded in dropped events;
 * an upgrade that needs the operator waits for `POST /services/upgrades/{id}/approve`. A newer
 * upgrade of the same service supersedes any older one still pending.
 * @throws only what D1 throws (then the poller keeps its cursor and reads the log again)
 */
export function createServiceUriUpdateHandler(env: Env, options: UpgradeOptions = {}): ServiceUriUpdateHandler {
  return async (chain, entry, uri) => {
    const db = openDb(env.DB);
    const eventKey = logEventKey(chain, entry);
    // Read again after a run failed part-way: handled once is enough.
    if (await findUpgradeByEventKey(db, eventKey)) return;
    const manager = { evm: { chain, address: entry.address.toLowerCase() as Hex } };
    const serviceId = computeServiceId(manager);
    const now = Date.now();
    const superseded = await supersedePendingUpgrades(db, serviceId, now);
    if (superseded > 0)
      log("info", "older pending service upgrade superseded", {
        subsys: "ingest",
        service_id: serviceId,
        chain,
        count: superseded,
      });
    const outcome = await attemptUpgrade(env, manager, uri, options);
    const base = { serviceId, chain, managerAddress: manager.evm.address, uri, eventKey, createdAt: now };
    await recordOutcome(env, db, base, outcome, 1);
  };
}

type UpgradeIdentity = Pick<ServiceUpgradeRow, "serviceId" | "chain" | "managerAddress" | "uri" | "eventKey">;

/** Stores a first attempt's outcome as a new row and says what happened. */
async function recordOutcome(
  env: Env,
  db: Db,
  base: UpgradeIdentity & { createdAt: number },
  outcome: UpgradeOutcome,
  attempts: number,
) {
  const now = Date.now();
  const fields = { subsys: "ingest" as const, service_id: base.serviceId, chain: base.chain, event_key: base.eventKey };
  switch (outcome.kind) {
    case "unchanged":
      return;
    case "applied":
      await insertUpgrade(db, { ...base, status: "applied", attempts, updatedAt: now });
      log("info", "service upgraded", fields);
      return;
    case "awaiting_approval": {
      const id = await insertUpgrade(db, {
        ...base,
        status: "awaiting_approval",
        json: outcome.json,
        changes: JSON.stringify(outcome.changes),
        attempts,
        updatedAt: now,
      });
      log("warn", "service upgrade awaits the operator's approval", {
        ...fields,
        upgrade_id: id,
        changes: outcome.changes,
      });
      return;
    }
    case "refused":
      await insertUpgrade(db, { ...base, status: "refused", error: outcome.reason, attempts, updatedAt: now });
      await refuse(db, base, outcome.reason, now);
      return;
    case "retry": {
      const next = nextAttemptAt(env, attempts, now);
      await insertUpgrade(db, {
        ...base,
        status: "retrying",
        error: outcome.reason,
        attempts,
        nextAttemptAt: next,
        updatedAt: now,
      });
      log("warn", "service upgrade failed, retrying in the background", {
        ...fields,
        error: outcome.reason,
        next_attempt_at: next,
      });
    }
  }
}

async function refuse(db: Db, row: UpgradeIdentity, reason: string, now: number) {
  log("warn", "service upgrade refused", {
    subsys: "ingest",
    service_id: row.serviceId,
    chain: row.chain,
    event_key: row.eventKey,
    error: reason,
  });
  await recordDroppedEvents(db, [
    { source: "service-upgrade", chain: row.chain, eventKey: row.eventKey, reason, at: now },
  ]);
}

/**
 * Retries upgrades whose transient failure's delay has passed (a few per run), backing off each
 * time and giving up after MAX_UPGRADE_ATTEMPTS. Called after each poll, never beside it.
 * @returns how many were retried
 */
export async function retryPendingUpgrades(env: Env, options: UpgradeOptions = {}, now = Date.now()): Promise<number> {
  const db = openDb(env.DB);
  const due = await dueUpgradeRetries(db, now, RETRIES_PER_RUN);
  for (const row of due) {
    const manager = { evm: { chain: row.chain, address: row.managerAddress as Hex } };
    const stillCurrent = async () => (await findUpgrade(db, row.id))?.status === "retrying";
    const outcome = await attemptUpgrade(env, manager, row.uri, options, stillCurrent);
    const attempts = row.attempts + 1;
    const at = Date.now();
    const fields = {
      subsys: "ingest" as const,
      service_id: row.serviceId,
      chain: row.chain,
      upgrade_id: row.id,
      attempts,
    };
    /** Ends the retries with `status`; false when the row left `retrying` meanwhile (superseded, rejected). */
    const settle = (status: "applied" | "refused" | "gave_up", error: string | null) =>
      updateUpgrade(db, row.id, "retrying", { status, error, attempts, nextAttemptAt: null, updatedAt: at });
    switch (outcome.kind) {
      case "unchanged":
      case "applied":
        if (await settle("applied", null)) log("info", "service upgraded on retry", fields);
        break;
      case "awaiting_approval":
        await updateUpgrade(db, row.id, "retrying", {
          status: "awaiting_approval",
          json: outcome.json,
          changes: JSON.stringify(outcome.changes),
          error: null,
          attempts,
          nextAttemptAt: null,
          updatedAt: at,
        });
        log("warn", "service upgrade awaits the operator's approval", { ...fields, changes: outcome.changes });
        break;
      case "refused":
        if (await settle("refused", outcome.reason)) await refuse(db, row, outcome.reason, at);
        break;
      case "retry":
        if (attempts >= MAX_UPGRADE_ATTEMPTS) {
          const reason = `upgrade_gave_up: ${attempts} attempts failed; last: ${outcome.reason}`;
          if (await settle("gave_up", reason)) await refuse(db, row, reason, at);
        } else {
          const next = nextAttemptAt(env, attempts, at);
          await updateUpgrade(db, row.id, "retrying", {
            error: outcome.reason,
            attempts,
            nextAttemptAt: next,
            updatedAt: at,
          });
          log("warn", "service upgrade retry failed", { ...fields, error: outcome.reason, next_attempt_at: next });
        }
    }
  }
  return due.length;
}

/**
 * Applies an upgrade the operator approves (`POST /services/upgrades/{id}/approve`): the JSON
 * fetched and checked when the log was read, its components already stored.
 * @throws ServiceError 404 no such upgrade or service gone, 409 not awaiting approval
 */
export async function approveUpgrade(env: Env, id: number): Promise<ServiceUpgradeRow> {
  const db = openDb(env.DB);
  const row = await findUpgrade(db, id);
  if (!row) throw new ServiceError(404, "upgrade_not_found", `no service upgrade ${id}`);
  if (row.status !== "awaiting_approval" || !row.json) {
    throw new ServiceError(409, "upgrade_not_pending", `upgrade ${id} is ${row.status}, not awaiting approval`, {
      details: { status: row.status },
    });
  }
  const service = parseServiceJson(row.json);
  // The grants may have changed since the upgrade was fetched.
  assertEnvKeysGranted(env, service);
  const now = Date.now();
  // Claim first: two approvals at once apply it once.
  if (!(await updateUpgrade(db, id, "awaiting_approval", { status: "applied", json: null, updatedAt: now }))) {
    throw new ServiceError(409, "upgrade_not_pending", `upgrade ${id} changed meanwhile`);
  }
  try {
    await applyUpgrade(env, service, now);
  } catch (e) {
    await updateUpgrade(db, id, "applied", {
      status: "refused",
      error: classifyUpgradeFailure(e).reason,
      updatedAt: Date.now(),
    });
    throw e;
  }
  log("info", "service upgrade approved and applied", { subsys: "api", service_id: row.serviceId, upgrade_id: id });
  return (await findUpgrade(db, id))!;
}

/**
 * Refuses a pending upgrade for good (`POST /services/upgrades/{id}/reject`).
 * @throws ServiceError 404 no such upgrade, 409 not pending
 */
export async function rejectUpgrade(env: Env, id: number): Promise<ServiceUpgradeRow> {
  const db = openDb(env.DB);
  const row = await findUpgrade(db, id);
  if (!row) throw new ServiceError(404, "upgrade_not_found", `no service upgrade ${id}`);
  const now = Date.now();
  const reason = "rejected_by_operator: the operator rejected this upgrade";
  if (
    !(row.status === "awaiting_approval" || row.status === "retrying") ||
    !(await updateUpgrade(db, id, row.status, {
      status: "refused",
      json: null,
      nextAttemptAt: null,
      error: reason,
      updatedAt: now,
    }))
  ) {
    throw new ServiceError(409, "upgrade_not_pending", `upgrade ${id} is ${row.status}, not pending`, {
      details: { status: row.status },
    });
  }
  await refuse(db, row, reason, now);
  return (await findUpgrade(db, id))!;
}
