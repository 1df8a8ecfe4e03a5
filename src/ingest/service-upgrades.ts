import { decodeEventLog, keccak256, parseAbi, toBytes, type Hex } from "viem";
import { ApiError } from "../api/errors";
import { openDb } from "../db/client";
import { cronCursors } from "../db/schema";
import { describeError, log } from "../log";
import { upgradeService } from "../service/register-service";
import { computeServiceId } from "../sign/event-id";
import type { ChainLog } from "./log-to-trigger-data";
import { logEventKey } from "./log-to-trigger-data";
import { recordDroppedEvents } from "./record-dropped-events";

const serviceUriUpdatedAbi = parseAbi(["event ServiceURIUpdated(string serviceURI)"]);

/** topic0 of IWavsServiceManager's `ServiceURIUpdated(string)`. */
export const SERVICE_URI_UPDATED_TOPIC = keccak256(toBytes("ServiceURIUpdated(string)"));

/** The new URI a ServiceURIUpdated log carries, or undefined when the log is not one. */
export function readServiceUriUpdated(log: Pick<ChainLog, "topics" | "data">): string | undefined {
  if (log.topics[0]?.toLowerCase() !== SERVICE_URI_UPDATED_TOPIC) return undefined;
  try {
    return decodeEventLog({ abi: serviceUriUpdatedAbi, topics: log.topics as [Hex, ...Hex[]], data: log.data }).args.serviceURI;
  } catch {
    return undefined;
  }
}

/** Handles one ServiceURIUpdated log; the poller calls it before moving its cursor past the log. */
export type ServiceUriUpdateHandler = (chain: string, log: ChainLog, uri: string) => Promise<void>;

/**
 * Upgrades the service of the manager that emitted the log. A failure worth retrying (the URI or a
 * component download unreachable) is thrown, so the cursor stays and the next poll tries again; a
 * refusal (bad JSON, another manager, a component nobody can supply) is logged and recorded in
 * dropped events, and the service keeps its workflows.
 * @throws ApiError 502, or what D1 throws
 */
export function createServiceUriUpdateHandler(env: Env): ServiceUriUpdateHandler {
  return async (chain, entry, uri) => {
    const manager = { evm: { chain, address: entry.address.toLowerCase() as Hex } };
    const serviceId = computeServiceId(manager);
    const db = openDb(env.DB);
    try {
      const { service, changed } = await upgradeService(env, manager, uri);
      if (!changed) return;
      // New cron workflows count from now, not from the service's first registration.
      const now = Date.now();
      for (const [workflowId, wf] of Object.entries(service.workflows)) {
        if (typeof wf.trigger === "object" && "cron" in wf.trigger) {
          await db.insert(cronCursors).values({ serviceId, workflowId, afterNs: (BigInt(now) * 1_000_000n).toString(), updatedAt: now }).onConflictDoNothing();
        }
      }
      log("info", "service upgraded", { subsys: "ingest", service_id: serviceId, chain, workflows: Object.keys(service.workflows), status: service.status });
    } catch (e) {
      if (!(e instanceof ApiError) || e.status >= 500) throw e;
      log("warn", "service upgrade refused", { subsys: "ingest", service_id: serviceId, chain, error: describeError(e) });
      await recordDroppedEvents(db, [{ source: "service-upgrade", chain, eventKey: logEventKey(chain, entry), reason: `${e.code}: ${e.message}`, at: Date.now() }]);
    }
  };
}
