import type { ContentfulStatusCode } from "hono/utils/http-status";
import { WavsError } from "../util/errors";

/** An error only the HTTP layer raises (bad query, auth, rate limit): always has a status. */
export class ApiError extends WavsError {
  override name = "ApiError";
  declare readonly status: ContentfulStatusCode;
  constructor(
    status: ContentfulStatusCode,
    code: string,
    message: string,
    details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(code, message, { status, details });
  }
}

export const badRequest = (code: string, message: string, details?: unknown) =>
  new ApiError(400, code, message, details);
export const notFound = (code: string, message: string) => new ApiError(404, code, message);

/** The JSON body every error response carries. */
export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/** What the API answers for an error. */
export interface ErrorResponse {
  status: ContentfulStatusCode;
  body: ErrorBody;
  headers?: Record<string, string>;
  /** true when the error is the node's own failure, hidden from the client: the caller logs it */
  internal: boolean;
}

/**
 * The one place errors become HTTP answers: a WavsError with a status is the client's to hear
 * (its code, message and details); anything else, a WavsError without a status included, is the
 * node's own failure and answers 500 `internal` without saying more.
 */
export function toErrorResponse(err: unknown): ErrorResponse {
  if (!(err instanceof WavsError) || err.status === undefined) {
    return {
      status: 500,
      body: { error: { code: "internal", message: "internal error; see the node's logs" } },
      internal: true,
    };
  }
  return {
    status: err.status,
    body: {
      error: { code: err.code, message: err.message, ...(err.details !== undefined ? { details: err.details } : {}) },
    },
    ...(err instanceof ApiError && err.headers ? { headers: err.headers } : {}),
    internal: false,
  };
}
