import { describe, expect, it } from "vitest";
import { SubmissionRefusedError } from "../aggregate/accept-submission";
import { SubmissionError } from "../aggregate/submission";
import { ExecutionError, InvalidComponentError } from "../execute/errors";
import { BodyEncodingError } from "../ingest/decode-body";
import { WebhookPayloadError } from "../ingest/webhook-payloads";
import { ServiceError, unreachable } from "../service/service-error";
import { ServiceJsonError } from "../service/service-json";
import { WavsError } from "../util/errors";
import { ApiError, toErrorResponse } from "./errors";

const internal = {
  status: 500,
  body: { error: { code: "internal", message: "internal error; see the node's logs" } },
  internal: true,
};

describe("toErrorResponse", () => {
  it("answers an ApiError with its status, code, message, details and headers", () => {
    const e = new ApiError(429, "rate_limited", "slow down", undefined, { "retry-after": "60" });
    expect(toErrorResponse(e)).toEqual({
      status: 429,
      body: { error: { code: "rate_limited", message: "slow down" } },
      headers: { "retry-after": "60" },
      internal: false,
    });
    expect(toErrorResponse(new ApiError(404, "service_not_found", "2 unknown", { unknown: ["a", "b"] })).body).toEqual({
      error: { code: "service_not_found", message: "2 unknown", details: { unknown: ["a", "b"] } },
    });
  });

  it("answers the domain's errors with the status and code the API documents", () => {
    const cases: [unknown, number, string, unknown?][] = [
      [new ServiceError(409, "service_exists", "already registered"), 409, "service_exists"],
      [unreachable("manager_unreachable", "no answer"), 502, "manager_unreachable"],
      [
        new ServiceJsonError("invalid service: x", [{ path: "x", message: "required" }]),
        422,
        "invalid_service",
        [{ path: "x", message: "required" }],
      ],
      [new ServiceJsonError("no cosmos", [], "unsupported_trigger"), 422, "unsupported_trigger", []],
      [new InvalidComponentError("core-module", "a core module"), 400, "invalid_component", { reason: "core-module" }],
      [new BodyEncodingError("br", 415), 415, "unsupported_encoding"],
      [new BodyEncodingError("too big", 413), 413, "body_too_large"],
      [new BodyEncodingError("corrupt", 400), 400, "invalid_encoding"],
      [new WebhookPayloadError("no logs"), 422, "invalid_payload"],
      [new SubmissionError("event_id differs"), 422, "invalid_body"],
      [new SubmissionRefusedError(403, "signer_not_registered", "no weight"), 403, "signer_not_registered"],
    ];
    for (const [e, status, code, details] of cases) {
      const answer = toErrorResponse(e);
      expect(answer, code).toMatchObject({
        status,
        internal: false,
        body: { error: { code, message: (e as Error).message } },
      });
      expect(answer.body.error.details, code).toEqual(details);
    }
  });

  it("hides what is not the client's to hear: a plain Error, or a WavsError without a status", () => {
    expect(toErrorResponse(new Error("D1_ERROR: no such table: secrets"))).toEqual(internal);
    expect(toErrorResponse(new ExecutionError("trap", "unreachable executed"))).toEqual(internal);
    expect(toErrorResponse(new WavsError("x", "no status", { retryable: true }))).toEqual(internal);
    expect(toErrorResponse("thrown string")).toEqual(internal);
  });
});
