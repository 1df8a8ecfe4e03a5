import { describe, expect, it } from "vitest";
import { parseLosslessJson, stringifyLosslessJson } from "./lossless-json";
import { parseServiceJson, ServiceJsonError, stringifyServiceJson } from "./service-json";

const digest = "ab".repeat(32);
const serviceJson = `{
  "name": "demo",
  "workflows": {
    "zeta": {
      "trigger": {"cron": {"schedule": "*/5 * * * * *", "start_time": 1735689600000000000, "end_time": null}},
      "component": {"source": {"digest": "${digest}"}, "permissions": {}, "fuel_limit": 18446744073709551615,
        "time_limit_seconds": null, "config": {"k": "v"}, "env_keys": ["WAVS_ENV_API_KEY"]},
      "submit": "none"
    },
    "default": {
      "trigger": {"evm_contract_event": {"address": "0x5fbdb2315678afecb367f032d93f642f64180aa3", "chain": "evm:31337",
        "event_hash": "0x${"11".repeat(32)}"}},
      "component": {"source": {"digest": "${digest}"}, "permissions": {"allowed_http_hosts": {"only": ["example.com"]}},
        "fuel_limit": null, "time_limit_seconds": 30, "config": {}, "env_keys": []},
      "submit": {"aggregator": {"url": "http://127.0.0.1:8787", "component": {"source": {"digest": "${digest}"},
        "permissions": {}, "fuel_limit": null, "time_limit_seconds": null, "config": {}, "env_keys": []},
        "signature_kind": {"algorithm": "secp256k1", "prefix": "eip191"}}}
    }
  },
  "status": "active",
  "manager": {"evm": {"chain": "evm:31337", "address": "0x5fbdb2315678afecb367f032d93f642f64180aa3"}}
}`;

describe("lossless JSON", () => {
  it("keeps u64 values beyond 2^53 exact", () => {
    const v = parseLosslessJson('{"a":18446744073709551615,"b":12,"c":1.5,"d":"x\\"y"}');
    expect(v).toEqual({ a: 18446744073709551615n, b: 12, c: 1.5, d: 'x"y' });
    expect(stringifyLosslessJson(v)).toBe('{"a":18446744073709551615,"b":12,"c":1.5,"d":"x\\"y"}');
  });

  it("points at the first bad character", () => {
    expect(() => parseLosslessJson('{"a": tru}')).toThrow(/offset 6/);
    expect(() => parseLosslessJson("[1,2] x")).toThrow(/trailing/);
  });
});

describe("service JSON", () => {
  it("parses WAVS's format, fills defaults and sorts workflows by id", () => {
    const service = parseServiceJson(serviceJson);
    expect(Object.keys(service.workflows)).toEqual(["default", "zeta"]);
    const zeta = service.workflows.zeta!;
    expect(zeta.component.fuel_limit).toBe(18446744073709551615n);
    expect(zeta.trigger).toEqual({
      cron: { schedule: "*/5 * * * * *", start_time: 1735689600000000000n, end_time: null },
    });
    expect(zeta.component.permissions.allowed_http_hosts).toBe("none");
    expect(service.workflows.default!.component.time_limit_seconds).toBe(30n);
  });

  it("round-trips losslessly", () => {
    const once = stringifyServiceJson(parseServiceJson(serviceJson));
    expect(stringifyServiceJson(parseServiceJson(once))).toBe(once);
    expect(once).toContain('"fuel_limit":18446744073709551615');
  });

  it("names the field that is wrong", () => {
    const bad = serviceJson.replace('"zeta"', '"Z!"');
    expect(() => parseServiceJson(bad)).toThrow(ServiceJsonError);
    expect(() => parseServiceJson(bad)).toThrow(/workflows/);
    expect(() => parseServiceJson(serviceJson.replace('"active"', '"running"'))).toThrow(/status/);
    expect(() => parseServiceJson("{")).toThrow(/does not parse/);
  });
});
