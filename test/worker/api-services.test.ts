import { env, SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { openDb } from "../../src/db/client";
import { parseServiceJson, serviceSchema } from "../../src/service/service-json";
import { deleteService, insertService } from "../../src/service/service-registry";
import { computeServiceId } from "../../src/service/event-id";
import { addChainWithoutCheck } from "./chain-fixtures";
import { emptyNodeStorage } from "./empty-node";

// Fixed ids and digests, or counts over the whole node: start from an empty D1 and R2 (empty-node.ts).
beforeAll(emptyNodeStorage);

const auth = { authorization: "Bearer test-token" };
const json = { ...auth, "content-type": "application/json" };
const evm = (address: string, chain = "evm:31337") => ({ evm: { chain, address } });

async function call(method: string, path: string, init: { headers?: Record<string, string>; body?: BodyInit } = {}) {
  const res = await SELF.fetch(`http://node${path}`, { method, ...init });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined, text };
}

/** A valid service JSON with u64 values beyond 2^53, written as bare integers as WAVS does. */
const serviceText = (chain: string) =>
  `{"name":"u64","workflows":{"tick":{"trigger":{"cron":{"schedule":"*/5 * * * * *","start_time":1763900000123456789,"end_time":null}},` +
  `"component":{"source":{"digest":"${"ab".repeat(32)}"},"permissions":{"allowed_http_hosts":"none","file_system":false,"raw_sockets":false,"dns_resolution":false},` +
  `"fuel_limit":18446744073709551615,"time_limit_seconds":30,"config":{},"env_keys":[]},"submit":"none"}},` +
  `"status":"active","manager":{"evm":{"chain":"${chain}","address":"0x${"44".repeat(20)}"}}}`;

describe("POST /services", () => {
  it("404s a chain the node does not know, 502s one whose RPC does not answer", async () => {
    const unknown = await call("POST", "/services", {
      headers: json,
      body: JSON.stringify({ service_manager: evm(`0x${"55".repeat(20)}`, "evm:999") }),
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("unknown_chain");
    // Port 9 (discard) has no JSON-RPC server behind it.
    await addChainWithoutCheck(4242);
    const down = await call("POST", "/services", {
      headers: json,
      body: JSON.stringify({ service_manager: evm(`0x${"55".repeat(20)}`, "evm:4242") }),
    });
    expect(down.status).toBe(502);
    expect(down.body.error).toEqual({ code: "chain_unreachable", message: "could not reach evm:4242" });
    expect((await call("GET", "/services")).body.service_ids).toEqual([]);
  });
});

describe("DELETE /services", () => {
  it("validates the body and names every unknown manager without deleting any", async () => {
    expect((await call("DELETE", "/services", { headers: json, body: "{}" })).status).toBe(422);
    expect((await call("DELETE", "/services", { headers: json, body: '{"service_managers":[]}' })).status).toBe(422);
    const res = await call("DELETE", "/services", {
      headers: json,
      body: JSON.stringify({ service_managers: [evm(`0x${"55".repeat(20)}`)] }),
    });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("service_not_found");
    expect(res.body.error.details.unknown).toEqual([evm(`0x${"55".repeat(20)}`)]);
  });

  it("needs the bearer token", async () => {
    const res = await call("DELETE", "/services", { body: '{"service_managers":[]}' });
    expect(res.status).toBe(401);
  });
});

describe("GET /services/{chain}/{address}", () => {
  it("400s a malformed manager and 404s an unregistered one", async () => {
    expect((await call("GET", "/services/evm:31337/0x12")).status).toBe(400);
    const res = await call("GET", `/services/evm:31337/0x${"66".repeat(20)}`);
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("service_not_found");
  });
});

describe("POST /dev/services/{hash}", () => {
  it("400s a malformed hash, 404s an unknown one", async () => {
    expect((await call("POST", "/dev/services/abc", { headers: auth })).status).toBe(400);
    const res = await call("POST", `/dev/services/${"0".repeat(64)}`, { headers: auth });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("service_not_found");
  });

  it("404s saved JSON whose chain the node does not know, and registers nothing", async () => {
    const saved = await call("POST", "/dev/services", { headers: json, body: serviceText("evm:999") });
    expect(saved.status).toBe(200);
    const res = await call("POST", `/dev/services/${saved.body.hash}`, { headers: auth });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("unknown_chain");
    expect((await call("GET", "/services")).body.service_ids).toEqual([]);
  });

  it("keeps u64 values exact in the saved bytes", async () => {
    const text = serviceText("evm:31337");
    const saved = await call("POST", "/dev/services", { headers: json, body: text });
    const read = await call("GET", `/dev/services/${saved.body.hash}`);
    expect(read.text).toContain('"fuel_limit":18446744073709551615');
    expect(read.text).toContain('"start_time":1763900000123456789');
  });
});

/** Service JSON with an aggregator submit, written the old way (with the url WAVS removed). */
const oldAggregatorText = (address: string) =>
  `{"name":"old","workflows":{"default":{"trigger":"manual","component":{"source":{"digest":"${"ab".repeat(32)}"}},` +
  `"submit":{"aggregator":{"url":"http://old-aggregator.example:8001","component":{"source":{"digest":"${"cd".repeat(32)}"}},` +
  `"signature_kind":{"algorithm":"secp256k1","prefix":"eip191"}}}}},"status":"active","manager":{"evm":{"chain":"evm:31337","address":"${address}"}}}`;

describe("service JSON as WAVS writes it now", () => {
  it("GET /services shows what happens to results (PEERS decide), not an old aggregator url", async () => {
    const service = parseServiceJson(oldAggregatorText(`0x${"71".repeat(20)}`));
    const id = computeServiceId(service.manager);
    await insertService(openDb(env.DB), service);
    try {
      const list = await call("GET", "/services");
      expect(list.text).not.toContain("old-aggregator.example");
      expect(list.body.services[0].workflows.default.submit.aggregator.signature_kind).toEqual({
        algorithm: "secp256k1",
        prefix: "eip191",
      });
      // wrangler.toml's PEERS is empty: this node aggregates alone.
      expect(list.body.submits).toEqual({ [id]: { default: "aggregated by this node alone (PEERS is empty)" } });
      const one = await call("GET", `/services/evm:31337/0x${"71".repeat(20)}`);
      expect(one.status).toBe(200);
      expect(one.text).not.toContain('"url"');
      // The dashboard's submit column says the same.
      const page = await SELF.fetch("http://node/", { headers: { accept: "text/html" } });
      const html = await page.text();
      expect(html).toContain("aggregated by this node alone (PEERS is empty)");
      expect(html).not.toContain("old-aggregator.example");
    } finally {
      await deleteService(openDb(env.DB), id);
    }
  });

  it("422s a workflow whose trigger kind this node cannot run, naming both, and saves nothing", async () => {
    const text = oldAggregatorText(`0x${"72".repeat(20)}`).replace(
      '"trigger":"manual"',
      '"trigger":{"cosmos_contract_event":{"address":"layer1abc","chain":"cosmos:layer","event_type":"wasm-x"}}',
    );
    const res = await call("POST", "/dev/services", { headers: json, body: text });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("unsupported_trigger");
    expect(res.body.error.message).toContain("workflow default: trigger kind cosmos_contract_event is not supported");
    expect(res.body.error.details).toEqual([{ path: "workflows.default.trigger", message: expect.any(String) }]);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
    const hash = [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
    expect((await call("GET", `/dev/services/${hash}`)).status).toBe(404);
  });
});

describe("GET /schemas/service.json", () => {
  it("serves a JSON Schema generated from the validator", async () => {
    const res = await call("GET", "/schemas/service.json");
    expect(res.status).toBe(200);
    expect(res.body.$schema).toContain("json-schema.org");
    expect(res.body.required).toEqual(["name", "workflows", "status", "manager"]);
    expect(Object.keys(res.body.properties)).toEqual(Object.keys(serviceSchema.shape));
    expect(res.body.properties.status.enum).toEqual(["active", "paused"]);
    // u64 fields are integers of any size, not the opaque {} zod gives bigints.
    const component = res.body.properties.workflows.additionalProperties.properties.component;
    expect(component.properties.fuel_limit.anyOf[0]).toMatchObject({ type: "integer", minimum: 0 });
    expect(component.properties.env_keys.items.pattern).toBe("^WAVS_ENV_[A-Za-z0-9_]+$");
    // WAVS's current Submit: the aggregator needs no url (an old one is still allowed).
    const submit = res.body.properties.workflows.additionalProperties.properties.submit;
    const aggregator = submit.anyOf.find((v: { properties?: object }) => v.properties && "aggregator" in v.properties)
      .properties.aggregator;
    expect(aggregator.required).toEqual(["component"]);
    expect(Object.keys(aggregator.properties)).toEqual(["url", "component", "signature_kind"]);
  });
});
