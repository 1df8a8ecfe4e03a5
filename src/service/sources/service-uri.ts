/**
 * The service JSON a manager's URI points to: http(s) (bounded, public addresses unless allowed),
 * `ipfs://` (verified CAR through the gateway), or JSON this node saved itself.
 */
import { eq } from "drizzle-orm";
import { ServiceError } from "../service-error";
import { openDb } from "../../db/client";
import { savedServices } from "../../db/schema";
import { fetchBounded } from "./bounded-fetch";
import { fetchIpfsFile, parseIpfsUri } from "./ipfs-source";
import { sourceSettings } from "./source-settings";

/** Largest service JSON fetched. */
export const MAX_SERVICE_JSON_BYTES = 1 << 20;
/** Deadline for fetching service JSON over http(s). */
export const SERVICE_URI_TIMEOUT_MS = 10_000;

/**
 * Service JSON by URI. A URI ending in `/dev/services/{hash}` that this node saved is read from D1
 * (a Worker cannot always fetch its own hostname); `ipfs://` through the gateway; else http(s).
 * @throws ServiceError 422 `unsupported_uri` / `service_uri_not_allowed` / `service_uri_too_large` /
 *   `ipfs_verification_failed` / `invalid_ipfs_uri` / `invalid_service` (not UTF-8),
 *   502 `service_uri_unreachable`
 */
export async function fetchServiceJson(env: Env, uri: string): Promise<string> {
  const local = /\/dev\/services\/([0-9a-f]{64})$/.exec(uri);
  if (local) {
    const row = await openDb(env.DB).query.savedServices.findFirst({ where: eq(savedServices.hash, local[1]!) });
    if (row) return row.json;
  }
  const settings = sourceSettings(env);
  const what = "the service URI";
  const ipfs = parseIpfsUri(uri);
  let bytes: Uint8Array;
  if (ipfs) {
    bytes = await fetchIpfsFile(ipfs, {
      gateway: settings.ipfsGateway,
      maxBytes: MAX_SERVICE_JSON_BYTES,
      code: "service_uri",
      what,
    });
  } else if (/^https?:\/\//i.test(uri)) {
    bytes = await fetchBounded(uri, {
      maxBytes: MAX_SERVICE_JSON_BYTES,
      timeoutMs: SERVICE_URI_TIMEOUT_MS,
      code: "service_uri",
      what,
      allowPrivate: settings.allowPrivate,
      headers: { accept: "application/json" },
    });
  } else {
    throw new ServiceError(422, "unsupported_uri", "the service URI must be http(s) or ipfs://");
  }
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new ServiceError(422, "invalid_service", "the service JSON is not UTF-8");
  }
}
