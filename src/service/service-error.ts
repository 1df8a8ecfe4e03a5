import { WavsError } from "../util/errors";

/**
 * Why a service cannot be registered, upgraded or fetched: the status the API answers with, and
 * `retryable` only for what the network may fix (an unreachable URI, chain or download).
 */
export class ServiceError extends WavsError {
  override name = "ServiceError";
  constructor(
    status: 404 | 409 | 422 | 500 | 502,
    code: string,
    message: string,
    options: { details?: unknown; retryable?: boolean } = {},
  ) {
    super(code, message, { status, ...options });
  }
}

/** A source (URI, download, gateway, registry, chain) that did not answer: worth trying again. */
export const unreachable = (code: string, message: string) => new ServiceError(502, code, message, { retryable: true });
