import { describe, expect, it } from "vitest";
import { AggregatorActionError } from "../aggregate/run-aggregator";
import { PermanentTaskError } from "../queue/consume-triggers";
import { ExecutionError } from "../execute/errors";
import { KeyValueLimitError } from "../execute/keyvalue/keyvalue-limits";
import { classifyUpgradeFailure } from "../ingest/service-upgrades";
import { InvalidComponentError } from "../execute/errors";
import { ServiceError, unreachable } from "../service/service-error";
import { ServiceJsonError } from "../service/service-json";
import { isRetryable, WavsError } from "./errors";

describe("isRetryable", () => {
  it("retries what is not a WavsError: an RPC, D1 or queue failure is taken as transient", () => {
    expect(isRetryable(new Error("fetch failed"))).toBe(true);
    expect(isRetryable("a thrown string")).toBe(true);
    expect(isRetryable(undefined)).toBe(true);
  });

  it("takes a WavsError's own word, refusing for good by default", () => {
    expect(isRetryable(new WavsError("x", "deliberate"))).toBe(false);
    expect(isRetryable(new WavsError("x", "transient", { retryable: true }))).toBe(true);
  });

  it("retries a component run only when it ran out of time", () => {
    expect(isRetryable(new ExecutionError("out-of-time", "too slow"))).toBe(true);
    for (const kind of ["component-missing", "instantiate", "trap", "component-error"] as const) {
      expect(isRetryable(new ExecutionError(kind, "fails again")), kind).toBe(false);
    }
  });

  it("never retries the node's own refusals, and retries what the network may fix", () => {
    expect(isRetryable(new PermanentTaskError("several responses without salts"))).toBe(false);
    expect(isRetryable(new AggregatorActionError("timer too long"))).toBe(false);
    expect(isRetryable(new KeyValueLimitError("value too large"))).toBe(false);
    expect(isRetryable(new ServiceError(422, "digest_mismatch", "bytes differ"))).toBe(false);
    expect(isRetryable(new ServiceJsonError("invalid service: workflows: required"))).toBe(false);
    expect(isRetryable(unreachable("component_unreachable", "answered 503"))).toBe(true);
  });
});

describe("classifyUpgradeFailure", () => {
  it("refuses the service owner's mistakes and retries the network's, naming the error's code", () => {
    expect(classifyUpgradeFailure(new ServiceError(422, "manager_mismatch", "another manager"))).toEqual({
      kind: "refused",
      reason: "manager_mismatch: another manager",
    });
    expect(classifyUpgradeFailure(unreachable("service_uri_unreachable", "answered 503"))).toEqual({
      kind: "retry",
      reason: "service_uri_unreachable: answered 503",
    });
    expect(classifyUpgradeFailure(new InvalidComponentError("not-wasm", "no magic"))).toEqual({
      kind: "refused",
      reason: "not_a_component: no magic",
    });
    expect(classifyUpgradeFailure(new ServiceJsonError("bad json"))).toEqual({
      kind: "refused",
      reason: "invalid_service: bad json",
    });
    expect(classifyUpgradeFailure(new Error("D1 hiccup"))).toEqual({
      kind: "retry",
      reason: "upgrade_failed: D1 hiccup",
    });
  });

  it("retries a bad SERVICE_ENV_GRANTS (the operator may fix it) though it answers 500", () => {
    expect(
      classifyUpgradeFailure(new ServiceError(500, "bad_config", "does not parse", { retryable: true })).kind,
    ).toBe("retry");
  });
});
