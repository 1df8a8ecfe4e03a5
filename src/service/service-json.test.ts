import { describe, expect, it } from "vitest";
import { parseLosslessJson, stringifyLosslessJson } from "./lossless-json";
import { describeSubmit } from "./describe-submit";
import { parseServiceJson, ServiceJsonError, stringifyServiceJson, toCurrentShape } from "./service-json";

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

/** The same service as WAVS writes it since 2026-01-02 (no aggregator url) and before (with one). */
const aggregated = (extra: string) =>
  `{"name":"agg","workflows":{"default":{"trigger":"manual","component":{"source":{"digest":"${digest}"},"permissions":{},` +
  `"fuel_limit":null,"time_limit_seconds":null,"config":{},"env_keys":[]},"submit":{"aggregator":{${extra}"component":{"source":{"digest":"${digest}"},` +
  `"permissions":{},"fuel_limit":null,"time_limit_seconds":null,"config":{"chain":"evm:31337"},"env_keys":[]},` +
  `"signature_kind":{"algorithm":"secp256k1","prefix":null}}}}},"status":"active",` +
  `"manager":{"evm":{"chain":"evm:31337","address":"0x5fbdb2315678afecb367f032d93f642f64180aa3"}}}`;
const current = aggregated("");
const old = aggregated('"url":"http://127.0.0.1:8001",');

describe("service JSON as WAVS writes it now", () => {
  it("accepts an aggregator submit without url and round-trips it without inventing one", () => {
    const once = stringifyServiceJson(parseServiceJson(current));
    expect(once).not.toContain('"url"');
    expect(stringifyServiceJson(parseServiceJson(once))).toBe(once);
    expect(parseServiceJson(once)).toEqual(parseServiceJson(current));
    const submit = parseServiceJson(current).workflows.default!.submit;
    expect(submit !== "none" && submit.aggregator.signature_kind).toEqual({ algorithm: "secp256k1", prefix: null });
  });

  it("keeps an old url as given (stored copy round-trips) and leaves it out of the current shape", () => {
    const once = stringifyServiceJson(parseServiceJson(old));
    expect(once).toContain('"url":"http://127.0.0.1:8001"');
    expect(stringifyServiceJson(parseServiceJson(once))).toBe(once);
    const shown = stringifyServiceJson(toCurrentShape(parseServiceJson(old)));
    expect(shown).toBe(stringifyServiceJson(parseServiceJson(current)));
  });

  it("registers a service with zero workflows", () => {
    const empty = `{"name":"empty","workflows":{},"status":"active","manager":{"evm":{"chain":"evm:31337","address":"0x5fbdb2315678afecb367f032d93f642f64180aa3"}}}`;
    expect(parseServiceJson(empty).workflows).toEqual({});
    expect(stringifyServiceJson(parseServiceJson(empty))).toBe(empty);
  });

  it.each([
    [
      "cosmos_contract_event",
      '{"cosmos_contract_event":{"address":"layer1qqqq","chain":"cosmos:layer","event_type":"wasm-new"}}',
    ],
    ["at_proto_event", '{"at_proto_event":{"collection":"app.bsky.feed.post","repo_did":null,"action":"create"}}'],
    ["hypercore_append", '{"hypercore_append":{"feed_key":"ab12"}}'],
  ])("refuses a %s trigger, naming the workflow and the kind", (kind, trigger) => {
    const text = current.replace('"trigger":"manual"', `"trigger":${trigger}`);
    let error: ServiceJsonError | undefined;
    try {
      parseServiceJson(text);
    } catch (e) {
      error = e as ServiceJsonError;
    }
    expect(error).toBeInstanceOf(ServiceJsonError);
    expect(error!.code).toBe("unsupported_trigger");
    expect(error!.message).toContain(`workflow default: trigger kind ${kind} is not supported by this node`);
    expect(error!.issues).toEqual([{ path: "workflows.default.trigger", message: expect.stringContaining(kind) }]);
  });

  it("still calls a malformed trigger of a known kind invalid", () => {
    const text = current.replace('"trigger":"manual"', '"trigger":{"hypercore_append":{}}');
    expect(() => parseServiceJson(text)).toThrow(/invalid service: workflows.default.trigger/);
  });
});

describe("describeSubmit", () => {
  const submit = parseServiceJson(old).workflows.default!.submit;
  it("says PEERS decide, whatever an old url said", () => {
    expect(describeSubmit(submit, { peers: ["http://a", "http://b", "http://c"] })).toBe(
      "aggregated by PEERS (3 nodes), unprefixed signatures",
    );
    expect(describeSubmit(submit, { peers: [] })).toBe(
      "aggregated by this node alone (PEERS is empty), unprefixed signatures",
    );
    expect(describeSubmit("none", { peers: ["http://a"] })).toBe("none (results are not submitted)");
  });
});
