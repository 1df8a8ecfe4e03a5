import type { ContentfulStatusCode } from "hono/utils/http-status";

/** What a WavsError carries besides its code and message. */
export interface WavsErrorOptions {
  /** The HTTP status a client should see, when the failure is the client's to hear about. */
  status?: ContentfulStatusCode;
  /** Whether doing the same again later may succeed (default false: a known, deliberate refusal). */
  retryable?: boolean;
  /** Structured detail for the client (never a secret). */
  details?: unknown;
  cause?: unknown;
}

/**
 * The base of every error wavs-edge throws on purpose: a stable `code`, the HTTP `status` the API
 * answers with (when it has one) and whether a retry may help. Only the edges translate it: the
 * API into `{error: {code, message, details}}`, the queue consumers into retry or acknowledge.
 */
export class WavsError extends Error {
  override name = "WavsError";
  readonly code: string;
  readonly status: ContentfulStatusCode | undefined;
  readonly retryable: boolean;
  readonly details: unknown;

  constructor(code: string, message: string, options: WavsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status;
    this.retryable = options.retryable ?? false;
    this.details = options.details;
  }
}

/**
 * Whether a failure may pass on a later attempt: a WavsError says so itself; anything else (an RPC
 * timeout, D1 or a queue hiccup, a bug) is taken as transient, so it is retried and then
 * dead-lettered rather than dropped on the first try.
 */
export function isRetryable(err: unknown): boolean {
  return err instanceof WavsError ? err.retryable : true;
}
