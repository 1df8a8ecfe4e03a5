import { asc, eq, or, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { evmTriggers, services, signingKeys } from "../db/schema";
import { deriveServiceSigner } from "../sign/signing-keys";
import { computeServiceId } from "./event-id";
import { createReadCache } from "../util/read-cache";
import { parseServiceJson, stringifyServiceJson } from "./service-json";
import type { Service, ServiceManager } from "./types";

export interface RegisteredService {
  id: string;
  service: Service;
  /** paused on this node by its operator, whatever `service.status` says */
  pausedByOperator: boolean;
}

/** Whether the service's workflows get tasks: active in its JSON and not paused by the operator. */
export function isServiceActive(registered: Pick<RegisteredService, "service" | "pausedByOperator">): boolean {
  return registered.service.status === "active" && !registered.pausedByOperator;
}

/**
 * How long another isolate may act on a service row, trigger index or paused ids read before a
 * write it did not make (5 s: these reads grow with wall time, not with events). The writing
 * isolate forgets at once (every write below goes through `writing`), and locally one isolate runs
 * a node's Worker and its Durable Objects. Why the TTL is safe in production: an upgrade or a pause
 * takes effect that much later in the other isolate, as if it had arrived that much later, and
 * operators already see a service's upgrades at different moments (each reads ServiceURIUpdated on
 * its own); a removed service's signing key stays reserved.
 */
export const REGISTRY_CACHE_TTL_MS = 5_000;

const cachedServices = createReadCache<RegisteredService>(REGISTRY_CACHE_TTL_MS);
const cachedTriggers = createReadCache<(typeof evmTriggers.$inferSelect)[]>(REGISTRY_CACHE_TTL_MS);
// A service's HD index never changes once claimed (removal keeps it reserved): kept until a write.
const cachedKeyIndexes = createReadCache<number>(Number.POSITIVE_INFINITY);
const cachedPaused = createReadCache<Set<string>>(REGISTRY_CACHE_TTL_MS);

/**
 * Forgets what this isolate read of the registry: called by every write below, and by tests that
 * change D1 behind the registry's back.
 */
export function forgetCachedRegistry(): void {
  cachedServices.forget();
  cachedTriggers.forget();
  cachedKeyIndexes.forget();
  cachedPaused.forget();
}

/**
 * Awaits a write of the registry, then forgets what this isolate read (also when the write failed:
 * part of it may have happened). A read in flight meanwhile does not store what it read.
 */
async function writing<T>(write: Promise<T>): Promise<T> {
  try {
    return await write;
  } finally {
    forgetCachedRegistry();
  }
}

/** The registered service, or undefined (read at most REGISTRY_CACHE_TTL_MS ago). */
export async function findService(db: Db, serviceId: string): Promise<RegisteredService | undefined> {
  return cachedServices.read(serviceId, async () => {
    const row = await db.query.services.findFirst({ where: eq(services.id, serviceId) });
    return row && { id: row.id, service: parseStored(row.id, row.json), pausedByOperator: row.pausedByOperator };
  });
}

export async function listServices(db: Db): Promise<RegisteredService[]> {
  const rows = await db.select().from(services).orderBy(asc(services.registeredAt));
  return rows.map((row) => ({
    id: row.id,
    service: parseStored(row.id, row.json),
    pausedByOperator: row.pausedByOperator,
  }));
}

/**
 * Each stored service JSON as last parsed, per isolate: the row is read every time (an upgrade or a
 * pause shows at once), but the same text is not parsed and validated again (5+ times per event).
 * Callers treat a Service as read-only.
 */
const parsedServices = new Map<string, { json: string; service: Service }>();
const MAX_PARSED_SERVICES = 256;

function parseStored(id: string, json: string): Service {
  const known = parsedServices.get(id);
  if (known?.json === json) return known.service;
  const service = parseServiceJson(json);
  if (parsedServices.size >= MAX_PARSED_SERVICES) parsedServices.clear();
  parsedServices.set(id, { json, service });
  return service;
}

/**
 * Service ids that are paused (by their JSON or by this node's operator): their workflows get no
 * tasks (read at most REGISTRY_CACHE_TTL_MS ago).
 */
export async function pausedServiceIds(db: Db): Promise<Set<string>> {
  const paused = await cachedPaused.read("paused", async () => {
    const rows = await db
      .select({ id: services.id })
      .from(services)
      .where(or(eq(services.status, "paused"), eq(services.pausedByOperator, true)));
    return new Set(rows.map((r) => r.id));
  });
  return paused ?? new Set();
}

/**
 * Pauses or resumes the service on this node (WAVS's POST /services/pause and /services/resume).
 * @returns false when no service with this id is registered
 */
export async function setOperatorPause(db: Db, serviceId: string, paused: boolean, now = Date.now()): Promise<boolean> {
  const updated = await writing(
    db
      .update(services)
      .set({ pausedByOperator: paused, updatedAt: now })
      .where(eq(services.id, serviceId))
      .returning({ id: services.id }),
  );
  return updated.length > 0;
}

function evmTriggerRows(id: string, service: Service) {
  return Object.entries(service.workflows).flatMap(([workflowId, wf]) =>
    typeof wf.trigger === "object" && "evm_contract_event" in wf.trigger
      ? [
          {
            serviceId: id,
            workflowId,
            chain: wf.trigger.evm_contract_event.chain,
            address: wf.trigger.evm_contract_event.address.toLowerCase(),
            eventHash: wf.trigger.evm_contract_event.event_hash.toLowerCase(),
          },
        ]
      : [],
  );
}

/** Trigger rows per INSERT: D1 binds at most 100 parameters per statement, 5 per row. */
const TRIGGER_ROWS_PER_STATEMENT = 20;

/** Inserts for the trigger rows, each statement within D1's parameter limit. */
function insertTriggerRows(db: Db, rows: ReturnType<typeof evmTriggerRows>) {
  const statements = [];
  for (let i = 0; i < rows.length; i += TRIGGER_ROWS_PER_STATEMENT) {
    statements.push(
      db
        .insert(evmTriggers)
        .values(rows.slice(i, i + TRIGGER_ROWS_PER_STATEMENT))
        .onConflictDoNothing(),
    );
  }
  return statements;
}

/**
 * Swaps a registered service's JSON (workflows, status, name) for `service` and re-indexes its EVM
 * triggers, in one batch. The service id, hence its signing key, stays the same (WAVS keeps the key
 * across an upgrade too).
 * @returns false when no service with this id is registered
 */
export async function replaceService(db: Db, service: Service, now = Date.now()): Promise<boolean> {
  const id = computeServiceId(service.manager);
  if (!(await db.query.services.findFirst({ where: eq(services.id, id), columns: { id: true } }))) return false;
  await writing(
    db.batch([
      db
        .update(services)
        .set({ json: stringifyServiceJson(service), status: service.status, updatedAt: now })
        .where(eq(services.id, id)),
      db.delete(evmTriggers).where(eq(evmTriggers.serviceId, id)),
      ...insertTriggerRows(db, evmTriggerRows(id, service)),
    ]),
  );
  return true;
}

/**
 * Stores the service and indexes its EVM triggers, whole or not at all: one batch (one D1
 * transaction) of the service row and its trigger rows, cut into statements D1 accepts. A service
 * already registered adds no row (registration refuses it before; a racing twin's trigger rows are
 * the same workflows' and are ignored).
 * @returns false when a service with this id is already registered
 * @throws what D1 throws; then nothing of the service was stored
 */
export async function insertService(db: Db, service: Service, now = Date.now()): Promise<boolean> {
  const id = computeServiceId(service.manager);
  const [inserted] = await writing(
    db.batch([
      db
        .insert(services)
        .values({
          id,
          managerChain: service.manager.evm.chain,
          managerAddress: service.manager.evm.address.toLowerCase(),
          json: stringifyServiceJson(service),
          status: service.status,
          registeredAt: now,
          updatedAt: now,
        })
        .onConflictDoNothing()
        .returning({ id: services.id }),
      ...insertTriggerRows(db, evmTriggerRows(id, service)),
    ]),
  );
  return inserted.length > 0;
}

/** Removes a service and its trigger index; its signing key index stays reserved. */
export async function deleteService(db: Db, serviceId: string): Promise<boolean> {
  const [deleted] = await writing(
    db.batch([
      db.delete(services).where(eq(services.id, serviceId)).returning({ id: services.id }),
      db.delete(evmTriggers).where(eq(evmTriggers.serviceId, serviceId)),
    ]),
  );
  return deleted.length > 0;
}

/**
 * The service's signing key: its persisted HD index, or the next free one (from 1) on first use.
 * The index is claimed with one INSERT … SELECT, so two concurrent first calls cannot share it.
 */
export async function ensureSigningKey(
  db: Db,
  mnemonic: string,
  manager: ServiceManager,
): Promise<{ serviceId: string; hdIndex: number; evmAddress: `0x${string}` }> {
  const serviceId = computeServiceId(manager);
  const existing = await db.query.signingKeys.findFirst({ where: eq(signingKeys.serviceId, serviceId) });
  if (existing) return { serviceId, hdIndex: existing.hdIndex, evmAddress: existing.evmAddress as `0x${string}` };

  const now = Date.now();
  // Claim the index first (address filled in below): the index must be unique before we derive.
  await writing(
    db.run(sql`INSERT INTO signing_keys (service_id, hd_index, evm_address, created_at)
    SELECT ${serviceId}, COALESCE(MAX(hd_index), 0) + 1, '', ${now} FROM signing_keys
    WHERE NOT EXISTS (SELECT 1 FROM signing_keys WHERE service_id = ${serviceId})`),
  );
  const row = await db.query.signingKeys.findFirst({ where: eq(signingKeys.serviceId, serviceId) });
  if (!row) throw new Error(`could not reserve a signing key for service ${serviceId}`);
  const evmAddress = deriveServiceSigner(mnemonic, row.hdIndex).address;
  if (row.evmAddress !== evmAddress) {
    await db.update(signingKeys).set({ evmAddress }).where(eq(signingKeys.serviceId, serviceId));
  }
  return { serviceId, hdIndex: row.hdIndex, evmAddress };
}

/** The HD index of a registered service's key. @throws when the service has none */
export async function signingKeyIndex(db: Db, serviceId: string): Promise<number> {
  const index = await cachedKeyIndexes.read(serviceId, async () => {
    const row = await db.query.signingKeys.findFirst({ where: eq(signingKeys.serviceId, serviceId) });
    return row?.hdIndex;
  });
  if (index === undefined) throw new Error(`service ${serviceId} has no signing key`);
  return index;
}

/** Lowercase addresses of the service managers registered on `chain` (watched for ServiceURIUpdated). */
export async function managersOnChain(db: Db, chain: string): Promise<string[]> {
  const rows = await db
    .select({ address: services.managerAddress })
    .from(services)
    .where(eq(services.managerChain, chain));
  return rows.map((r) => r.address);
}

/** Workflows listening on `chain`, for the poller and the webhooks (read at most REGISTRY_CACHE_TTL_MS ago). */
export async function evmTriggersOnChain(db: Db, chain: string): Promise<(typeof evmTriggers.$inferSelect)[]> {
  const rows = await cachedTriggers.read(chain, () =>
    db.select().from(evmTriggers).where(eq(evmTriggers.chain, chain)),
  );
  return rows ?? [];
}
