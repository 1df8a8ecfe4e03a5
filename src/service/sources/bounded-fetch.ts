/**
 * The one way the node fetches what a service names (service JSON, component bytes, IPFS CARs,
 * registry manifests and blobs): a deadline over the whole exchange, redirects followed by hand so
 * each hop passes the network policy, and a size cap enforced while streaming (at most cap + 1
 * bytes are read; a Content-Length over the cap is refused before reading).
 *
 * Errors (ServiceError, mapped to JSON by the API's error handler):
 * - 422 `{code}_not_allowed`: the URL's scheme or address is refused (network-policy.ts);
 * - 502 `{code}_unreachable`: network error, timeout, or a non-2xx answer (worth retrying later);
 * - 422 `{code}_too_large`: the body is over the cap. 422 rather than 413, because 413 is about the
 *   request the client sent, while here the resource the service points to is at fault.
 */
import { ServiceError, unreachable } from "../service-error";
import { refuseOutboundUrl } from "./network-policy";

export type BoundedFetchParameters = {
  /** Most bytes accepted in the body. */
  maxBytes: number;
  /** Deadline for the whole exchange, redirects and body included. */
  timeoutMs: number;
  /** Error code prefix, e.g. "service_uri" → service_uri_unreachable. */
  code: string;
  /** What is fetched, for messages ("the service URI", "component 1234…"). */
  what: string;
  allowPrivate: boolean;
  headers?: Record<string, string>;
  /** POSTs this body instead of a GET (redirects are then not followed). */
  body?: string;
  /**
   * On a 401, called with its WWW-Authenticate header; headers it returns are added and the
   * request is sent once more (OCI registries hand out anonymous pull tokens this way).
   */
  onUnauthorized?: (challenge: string) => Promise<Record<string, string> | undefined>;
};

/** Redirects followed at most (each checked against the network policy). */
export const MAX_REDIRECTS = 5;

/**
 * GETs (or POSTs `body` to) `url` and returns the body, bounded in time and size.
 * @throws ServiceError 422 `{code}_not_allowed` / `{code}_too_large`, 502 `{code}_unreachable`
 */
export async function fetchBounded(url: string, params: BoundedFetchParameters): Promise<Uint8Array> {
  const { code, what } = params;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), params.timeoutMs);
  const timedOut = () => unreachable(`${code}_unreachable`, `${what} did not answer within ${params.timeoutMs} ms`);
  try {
    const send = (headers: Record<string, string> | undefined) =>
      followRedirects(url, { ...params, headers }, controller.signal).catch((e: unknown) => {
        if (e instanceof ServiceError) throw e;
        if (controller.signal.aborted) throw timedOut();
        throw unreachable(`${code}_unreachable`, `could not fetch ${what}`);
      });
    let res = await send(params.headers);
    const challenge = res.status === 401 ? res.headers.get("www-authenticate") : null;
    if (challenge && params.onUnauthorized) {
      await res.body?.cancel().catch(() => {});
      const extra = await params.onUnauthorized(challenge);
      if (extra) res = await send({ ...params.headers, ...extra });
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      throw unreachable(`${code}_unreachable`, `${what} answered ${res.status}`);
    }
    const declared = Number(res.headers.get("content-length"));
    if (Number.isFinite(declared) && declared > params.maxBytes) {
      await res.body?.cancel().catch(() => {});
      throw tooLarge(params);
    }
    return await readCapped(res, params).catch((e: unknown) => {
      if (e instanceof ServiceError) throw e;
      if (controller.signal.aborted) throw timedOut();
      throw unreachable(`${code}_unreachable`, `the connection to ${what} broke while reading`);
    });
  } finally {
    clearTimeout(timer);
  }
}

async function followRedirects(start: string, initial: BoundedFetchParameters, signal: AbortSignal): Promise<Response> {
  let params = initial;
  let url = parseUrl(start, params);
  for (let hop = 0; ; hop++) {
    const init: RequestInit = params.body === undefined ? { method: "GET" } : { method: "POST", body: params.body };
    const res = await fetch(url, { ...init, headers: params.headers, redirect: "manual", signal });
    const location = res.headers.get("location");
    if (res.status < 300 || res.status > 399 || !location || params.body !== undefined) return res;
    await res.body?.cancel().catch(() => {});
    if (hop === MAX_REDIRECTS) {
      throw unreachable(`${params.code}_unreachable`, `${params.what} redirected more than ${MAX_REDIRECTS} times`);
    }
    const next = parseUrl(new URL(location, url).href, params);
    // Credentials are for the host they were meant for, not wherever it redirects (blob storage).
    if (next.origin !== url.origin && params.headers?.authorization) {
      const { authorization: _dropped, ...rest } = params.headers;
      params = { ...params, headers: rest };
    }
    url = next;
  }
}

function parseUrl(text: string, params: BoundedFetchParameters): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ServiceError(422, `${params.code}_not_allowed`, `${params.what} is not a valid URL`);
  }
  const refused = refuseOutboundUrl(url, params.allowPrivate);
  if (refused) throw new ServiceError(422, `${params.code}_not_allowed`, `${params.what}: ${refused}`);
  return url;
}

/** Reads the body chunk by chunk, stopping as soon as it passes the cap. */
async function readCapped(res: Response, params: BoundedFetchParameters): Promise<Uint8Array> {
  if (!res.body) return new Uint8Array();
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > params.maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge(params);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

const tooLarge = (params: BoundedFetchParameters) =>
  new ServiceError(422, `${params.code}_too_large`, `${params.what} is over ${params.maxBytes} bytes`);
