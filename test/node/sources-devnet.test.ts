/**
 * Services and components from IPFS and a wasm registry, on a devnet: `wavs-edge deploy-service
 * --service-uri ipfs://…` registers a service whose operator component is itself ipfs-sourced and
 * whose aggregator comes from an OCI registry (resolved as wkg does), on three operators, and a
 * trigger lands once. A local
 * trustless gateway serves real CARs; Debian's docker-registry holds the aggregator. The project's
 * own components (build/components), under digests the devnet has not stored, so each is fetched.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPublicClient, createWalletClient, http, toHex, type Address } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { wavsServiceManagerAbi } from "../../src/chain/abi/wavs-service-manager";
import { anvilAccount } from "../../devnet/index";
import { addTrigger, deployContracts } from "../../devnet/index";
import { readHandlerTxsByEvent } from "./aggregation-helpers";
import { DEVNET_BEARER_TOKEN, NEW_TRIGGER_EVENT_HASH, startDevnet, type RunningDevnet } from "../../devnet/index";
import { waitForResult } from "../../devnet/index";
import { startIpfsGateway, type IpfsGateway } from "../support/ipfs-gateway";
import { pushWasmComponent } from "../support/oci-push";
import { startOciRegistry, type OciRegistry } from "../support/oci-registry";

const BIN = join(process.cwd(), "bin", "wavs-edge.mjs");
const COMPONENTS = join(process.cwd(), "build", "components");
const wasm = (name: string) => new Uint8Array(readFileSync(join(COMPONENTS, name)));
const digestOf = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/**
 * The component with a custom section appended: it runs the same, under another digest, so a node
 * that already stores the original (the devnet uploads square) must still fetch this one.
 */
function withCustomSection(component: Uint8Array, label: string): Uint8Array {
  const leb = (n: number) => {
    const out: number[] = [];
    do {
      let b = n & 0x7f;
      n >>>= 7;
      if (n) b |= 0x80;
      out.push(b);
    } while (n);
    return out;
  };
  const name = new TextEncoder().encode("wavs-edge-test");
  const body = [...leb(name.length), ...name, ...new TextEncoder().encode(label)];
  return new Uint8Array([...component, 0, ...leb(body.length), ...body]);
}

let running: RunningDevnet;
let gateway: IpfsGateway;
let registry: OciRegistry;
let domain: Server;
let domainHost: string;
let cwd: string;

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), "wavs-edge-sources-"));
  gateway = await startIpfsGateway();
  registry = await startOciRegistry();
  // The wasm-pkg domain: its well-known metadata names the OCI registry, as wa.dev's does.
  domain = createServer((req, res) => {
    if (req.url !== "/.well-known/wasm-pkg/registry.json") return void res.writeHead(404).end();
    res
      .writeHead(200, { "content-type": "application/json" })
      .end(JSON.stringify({ oci: { registry: registry.host, namespacePrefix: "devnet/" } }));
  });
  await new Promise<void>((r) => domain.listen(0, "127.0.0.1", r));
  domainHost = `127.0.0.1:${(domain.address() as AddressInfo).port}`;
  running = await startDevnet({
    anvilPort: 0,
    nodePort: 0,
    operators: 3,
    pollIntervalMs: 2_000, // each scheduled run costs the node CPU; three nodes share the machine
    extraVars: { IPFS_GATEWAY: gateway.url, WASM_REGISTRY_HTTP_HOSTS: `${domainHost},${registry.host}` },
  });
}, 240_000);
afterAll(async () => {
  await running?.stop();
  await registry?.stop();
  await gateway?.close();
  await new Promise((r) => (domain ? domain.close(r) : r(undefined)));
  await rm(cwd, { recursive: true, force: true });
});

function cli(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      {
        cwd,
        env: {
          ...process.env,
          WAVS_EDGE_NODE: running.devnet.nodes[0]!.url,
          WAVS_EDGE_TOKEN: DEVNET_BEARER_TOKEN,
          ...env,
        },
      },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

/** A new manager whose operators are the devnet's three nodes (two of three sign a quorum), with trigger and submit contracts. */
async function newService() {
  const { devnet } = running;
  const contracts = await deployContracts({
    rpcUrl: devnet.chain.rpc_url,
    deployer: anvilAccount(0),
    operators: [],
    threshold: { numerator: 2, denominator: 3 },
  });
  const manager = { evm: { chain: devnet.chain.key, address: contracts.serviceManager.toLowerCase() } };
  const wallet = createWalletClient({ account: anvilAccount(0), transport: http(devnet.chain.rpc_url) });
  const client = createPublicClient({ transport: http(devnet.chain.rpc_url) });
  for (const node of devnet.nodes) {
    const res = await fetch(`${node.url}/services/signer`, {
      method: "POST",
      headers: { authorization: `Bearer ${DEVNET_BEARER_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ service_manager: manager }),
    });
    const signer = ((await res.json()) as { secp256k1: { evm_address: Address } }).secp256k1.evm_address;
    const hash = await wallet.writeContract({
      chain: null,
      address: contracts.serviceManager,
      abi: wavsServiceManagerAbi,
      functionName: "setOperator",
      args: [signer, signer, 1n],
    });
    await client.waitForTransactionReceipt({ hash });
  }
  return { contracts, manager };
}

function serviceJson(p: {
  contracts: { trigger: Address; submit: Address };
  manager: unknown;
  operator: unknown;
  aggregator: unknown;
  aggregatorConfig?: Record<string, string>;
}) {
  const component = (source: unknown, config: Record<string, string> = {}) => ({
    source,
    permissions: { allowed_http_hosts: "none", file_system: false, raw_sockets: false, dns_resolution: false },
    fuel_limit: null,
    time_limit_seconds: 30,
    config,
    env_keys: [],
  });
  const chain = running.devnet.chain.key;
  return JSON.stringify({
    name: "from ipfs and a registry",
    workflows: {
      default: {
        trigger: {
          evm_contract_event: { address: p.contracts.trigger.toLowerCase(), chain, event_hash: NEW_TRIGGER_EVENT_HASH },
        },
        component: component(p.operator),
        submit: {
          aggregator: {
            component: component(p.aggregator, {
              ...p.aggregatorConfig,
              chain,
              service_handler: p.contracts.submit.toLowerCase(),
            }),
            signature_kind: { algorithm: "secp256k1", prefix: "eip191" },
          },
        },
      },
    },
    status: "active",
    manager: p.manager,
  });
}

const credential = () => ({ WAVS_CLI_EVM_CREDENTIAL: toHex(anvilAccount(0).getHdKey().privateKey!) });

describe("sources on a devnet", () => {
  it("deploy-service --service-uri ipfs://… registers, on three operators, a service whose components come from IPFS and a registry, and a trigger lands once", async () => {
    const { devnet } = running;
    const { contracts, manager } = await newService();
    // components the devnet has not stored, so both must be fetched
    const operatorBytes = withCustomSection(wasm("square.wasm"), "from ipfs");
    const aggregatorBytes = wasm("relay-aggregator.wasm");
    await pushWasmComponent(registry.host, "devnet/wavs/relay-aggregator", "0.3.0", aggregatorBytes);
    const operatorUri = await gateway.add(operatorBytes, { name: "square.wasm" });
    const text = serviceJson({
      contracts,
      manager,
      operator: { download: { uri: operatorUri, digest: digestOf(operatorBytes) } },
      aggregator: {
        registry: {
          digest: digestOf(aggregatorBytes),
          domain: domainHost,
          version: "0.3.0",
          package: "wavs:relay-aggregator",
        },
      },
      // relay-aggregator reads each of these (a missing one is null to it)
      aggregatorConfig: { delay_secs: "1", gas_price: "3000000007", skip_payload: "no payload has this" },
    });
    const serviceUri = await gateway.add(new TextEncoder().encode(text), { name: "service.json" });

    const deployed = await cli(
      [
        "deploy-service",
        "--service-uri",
        serviceUri,
        "--set-uri",
        "--rpc-url",
        devnet.chain.rpc_url,
        "--ipfs-gateway",
        `${gateway.url}/ipfs/`,
        "--json",
      ],
      credential(),
    );
    expect(deployed.code, deployed.stderr).toBe(0);
    expect(JSON.parse(deployed.stdout).service_uri).toBe(serviceUri);
    // the node asked the gateway for CARs of both (the CLI read the service JSON as a plain file)
    const cidOf = (uri: string) => uri.slice("ipfs://".length).split("/")[0]!;
    const operatorRequests = gateway.requests.filter((r) => r.startsWith(`/ipfs/${cidOf(operatorUri)}`));
    expect(operatorRequests.length).toBeGreaterThan(0);
    expect(operatorRequests.every((r) => r.includes("format=car") && r.includes("application/vnd.ipld.car"))).toBe(
      true,
    );
    expect(gateway.requests.some((r) => r.startsWith(`/ipfs/${cidOf(serviceUri)}`) && r.includes("format=car"))).toBe(
      true,
    );

    // the other two operators register the same service from the manager's ipfs:// URI
    for (const node of devnet.nodes.slice(1)) {
      const res = await fetch(`${node.url}/services`, {
        method: "POST",
        headers: { authorization: `Bearer ${DEVNET_BEARER_TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ service_manager: manager }),
      });
      expect(res.status, await res.text()).toBeLessThan(300);
    }

    const { triggerId } = await addTrigger({
      rpcUrl: devnet.chain.rpc_url,
      account: privateKeyToAccount(devnet.accounts.trigger_private_key),
      trigger: contracts.trigger,
      data: new TextEncoder().encode('{"x":7}'),
    });
    const result = await waitForResult({
      rpcUrl: devnet.chain.rpc_url,
      submit: contracts.submit,
      triggerId,
      timeoutMs: 60_000,
    }).catch(async (e: Error) => {
      const tasks = await (await fetch(`${devnet.nodes[0]!.url}/tasks?limit=3`)).text();
      throw new Error(`${e.message}; the node's latest tasks: ${tasks.slice(0, 3000)}`);
    });
    expect(result.data).toBe('{"y":49}');
    // landed once: one handler transaction for the event, whichever node sent it
    const byEvent = await readHandlerTxsByEvent(devnet, contracts.submit);
    expect([...byEvent.values()].map((txs) => txs.length)).toEqual([1]);
  });

  it("refuses a service whose ipfs component arrives tampered: 422, nothing registered", async () => {
    const { devnet } = running;
    const { contracts, manager } = await newService();
    const bytes = wasm("http-get.wasm");
    const tampered = await gateway.add(bytes, { tamper: true });
    const text = serviceJson({
      contracts,
      manager,
      operator: { download: { uri: tampered, digest: digestOf(bytes) } },
      aggregator: { digest: digestOf(wasm("simple-aggregator.wasm")) },
    });
    const serviceUri = await gateway.add(new TextEncoder().encode(text), { name: "service.json" });
    const before = ((await (await fetch(`${devnet.nodes[0]!.url}/services`)).json()) as { service_ids: string[] })
      .service_ids;
    const deploy = () =>
      cli(
        [
          "deploy-service",
          "--service-uri",
          serviceUri,
          "--set-uri",
          "--rpc-url",
          devnet.chain.rpc_url,
          "--ipfs-gateway",
          `${gateway.url}/ipfs/`,
        ],
        credential(),
      );
    let res = await deploy();
    // Once in three fresh-clone runs `wrangler dev` answered this POST with its own 503 ("Your worker
    // restarted mid-request"; cause not found): the request never reached the node, so ask again.
    if (/503 Your worker restarted mid-request/.test(res.stderr)) res = await deploy();
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/422 ipfs_verification_failed: block \S+ does not match its CID/);
    const after = ((await (await fetch(`${devnet.nodes[0]!.url}/services`)).json()) as { service_ids: string[] })
      .service_ids;
    expect(after).toEqual(before);
    expect((await fetch(`${devnet.nodes[0]!.url}/components/${digestOf(bytes)}`)).status).toBe(404);
  });
});
