/**
 * The `wavs-edge` CLI as a user runs it (a child process, in a directory holding devnet.json)
 * against a running local network: anvil, the contracts and a node under `wrangler dev`; and the
 * node's answers to service registrations that cannot succeed.
 */
import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPublicClient, http, parseAbi, toHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { anvilAccount } from "../../devnet/index";
import { addTrigger, deployContracts } from "../../devnet/index";
import {
  DEVNET_BEARER_TOKEN,
  NEW_TRIGGER_EVENT_HASH,
  startDevnet,
  writeDevnetJson,
  type RunningDevnet,
} from "../../devnet/index";
import { waitForResult } from "../../devnet/index";

const BIN = join(process.cwd(), "bin", "wavs-edge.mjs");
const COMPONENTS = join(process.cwd(), "build", "components");
let running: RunningDevnet;
let cwd: string;

function cli(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, ...env } }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), "wavs-edge-cli-"));
  running = await startDevnet({ anvilPort: 0, nodePort: 0, pollIntervalMs: 1_000 }); // random ports: other test files run devnets at once
  await writeDevnetJson(running.devnet, join(cwd, "devnet.json"));
}, 180_000);
afterAll(async () => {
  await running?.stop();
  await rm(cwd, { recursive: true, force: true });
});

describe("wavs-edge against a running node", () => {
  it("uploads a component and prints its digest", async () => {
    const res = await cli(["upload-component", join(COMPONENTS, "square.wasm"), "--json"]);
    expect(res.code, res.stderr).toBe(0);
    const { digest } = JSON.parse(res.stdout);
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    expect(res.stderr).toContain("uploading");
    const services = (await (await fetch(`${running.devnet.nodes[0]!.url}/services`)).json()) as {
      component_digests: string[];
    };
    expect(services.component_digests).toContain(digest);
  });

  it("builds a service, sets its URI on a new manager and registers it", async () => {
    const { devnet } = running;
    const deployer = anvilAccount(0);
    const contracts = await deployContracts({
      rpcUrl: devnet.chain.rpc_url,
      deployer,
      operators: [],
      threshold: { numerator: 1, denominator: 1 },
    });
    const square = JSON.parse(
      (await cli(["upload-component", join(COMPONENTS, "square.wasm"), "--json"])).stdout,
    ).digest;
    const aggregator = JSON.parse(
      (await cli(["upload-component", join(COMPONENTS, "simple-aggregator.wasm"), "--json"])).stdout,
    ).digest;
    const steps = [
      [
        "service",
        "init",
        "--name",
        "cli-built",
        "--manager-chain",
        devnet.chain.key,
        "--manager-address",
        contracts.serviceManager,
      ],
      ["service", "workflow", "add", "--id", "default"],
      [
        "service",
        "trigger",
        "set-evm",
        "--workflow-id",
        "default",
        "--chain",
        devnet.chain.key,
        "--address",
        contracts.trigger,
        "--event-hash",
        NEW_TRIGGER_EVENT_HASH,
      ],
      ["service", "component", "set-source-digest", "--workflow-id", "default", "--digest", square],
      [
        "service",
        "component",
        "limits",
        "--workflow-id",
        "default",
        "--fuel-limit",
        "18446744073709551615",
        "--time-limit",
        "30",
      ],
      [
        "service",
        "submit",
        "set-aggregator",
        "--workflow-id",
        "default",
        "--digest",
        aggregator,
        "--chain",
        devnet.chain.key,
        "--service-handler",
        contracts.submit,
      ],
      ["service", "validate"],
    ];
    for (const step of steps) {
      const res = await cli(step);
      expect(res.code, `${step.join(" ")}: ${res.stderr}`).toBe(0);
    }
    expect(await readFile(join(cwd, "service.json"), "utf8")).toContain('"fuel_limit": 18446744073709551615');

    const credential = { WAVS_CLI_EVM_CREDENTIAL: toHex(deployer.getHdKey().privateKey!) };
    const deployed = await cli(
      ["deploy-service", "--service-file", "service.json", "--set-uri", "--rpc-url", devnet.chain.rpc_url, "--json"],
      credential,
    );
    expect(deployed.code, deployed.stderr).toBe(0);
    const result = JSON.parse(deployed.stdout);
    expect(result.service_id).toMatch(/^[0-9a-f]{64}$/);
    expect(deployed.stderr).toContain("setting the service URI");
    const uri = await createPublicClient({ transport: http(devnet.chain.rpc_url) }).readContract({
      address: contracts.serviceManager,
      abi: parseAbi(["function getServiceURI() view returns (string)"]),
      functionName: "getServiceURI",
    });
    expect(uri).toBe(result.service_uri);

    // Registering it again fails with the node's reason on one line and a non-zero exit.
    const again = await cli(["deploy-service", "--service-uri", uri]);
    expect(again.code).toBe(1);
    expect(again.stderr.trim().split("\n").at(-1)).toMatch(/^error: POST \/services → 409 service_exists: /);
  }, 600_000); // fourteen CLI processes and two deployments: minutes on a 2-core machine under others' load

  it("lists tasks and shows one task's timeline", async () => {
    const { devnet } = running;
    const { triggerId } = await addTrigger({
      rpcUrl: devnet.chain.rpc_url,
      account: privateKeyToAccount(devnet.accounts.trigger_private_key),
      trigger: devnet.contracts.trigger,
      data: new TextEncoder().encode('{"x":6}'),
    });
    const { eventId } = await waitForResult({
      rpcUrl: devnet.chain.rpc_url,
      submit: devnet.contracts.submit,
      triggerId,
    });
    const list = await cli(["tasks", "--status", "landed", "--json"]);
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout).tasks.map((t: { eventId: string }) => t.eventId)).toContain(eventId);
    const one = await cli(["tasks", eventId]);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toContain(`${eventId}: landed`);
    expect(one.stdout).toMatch(/ms {2}quorum_reached/);
    const missing = await cli(["tasks", `0x${"00".repeat(20)}`]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("404 task_not_found");
  });
});

describe("POST /services on a running node: each failure has its status and code", () => {
  let server: Server;
  let base: string;
  let closedPort: number;
  beforeAll(async () => {
    // A port nothing listens on (bound, then released) and a server answering JSON that is no service.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    closedPort = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    server = createServer((req, res) => {
      const wasm = /^\/components\/([a-z-]+\.wasm)$/.exec(req.url ?? "");
      if (wasm)
        return void res
          .writeHead(200, { "content-type": "application/wasm" })
          .end(readFileSync(join(COMPONENTS, wasm[1]!)));
      res.writeHead(200, { "content-type": "application/json" }).end('{"name":"no workflows"}');
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((r) => server?.close(r)));

  async function register(serviceUri: string | undefined) {
    const { devnet } = running;
    const contracts = await deployContracts({
      rpcUrl: devnet.chain.rpc_url,
      deployer: anvilAccount(0),
      operators: [],
      threshold: { numerator: 1, denominator: 1 },
      ...(serviceUri === undefined ? {} : { serviceUri }),
    });
    const res = await fetch(`${devnet.nodes[0]!.url}/services`, {
      method: "POST",
      headers: { authorization: `Bearer ${DEVNET_BEARER_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({
        service_manager: { evm: { chain: devnet.chain.key, address: contracts.serviceManager } },
      }),
    });
    return { status: res.status, error: ((await res.json()) as { error: { code: string; message: string } }).error };
  }

  it("502 when the service URI is unreachable", async () => {
    const res = await register(`http://127.0.0.1:${closedPort}/service.json`);
    expect(res).toMatchObject({ status: 502, error: { code: "service_uri_unreachable" } });
  });

  it("422 naming the problem when the URI serves JSON that is not a service", async () => {
    const res = await register(`${base}/service.json`);
    expect(res.status).toBe(422);
    expect(res.error.code).toBe("invalid_service");
    expect(res.error.message).toMatch(/workflows|manager/);
  });

  it("404 when the manager has no service URI", async () => {
    const res = await register(undefined);
    expect(res).toMatchObject({ status: 404, error: { code: "no_service_uri" } });
  });

  /** Saves service JSON whose components are downloads, then registers it directly. */
  async function registerDownloads(
    address: string,
    operator: { uri: string; digest: string },
    aggregator: { uri: string; digest: string },
  ) {
    const component = (download: { uri: string; digest: string }) => ({
      source: { download },
      permissions: { allowed_http_hosts: "none", file_system: false, raw_sockets: false, dns_resolution: false },
      fuel_limit: null,
      time_limit_seconds: null,
      config: {},
      env_keys: [],
    });
    const service = {
      name: "downloads",
      workflows: {
        manual: {
          trigger: "manual",
          component: component(operator),
          submit: {
            aggregator: {
              url: running.devnet.nodes[0]!.url,
              component: component(aggregator),
              signature_kind: { algorithm: "secp256k1", prefix: "eip191" },
            },
          },
        },
      },
      status: "active",
      manager: { evm: { chain: running.devnet.chain.key, address } },
    };
    const node = running.devnet.nodes[0]!.url;
    const headers = { authorization: `Bearer ${DEVNET_BEARER_TOKEN}`, "content-type": "application/json" };
    const saved = await fetch(`${node}/dev/services`, { method: "POST", headers, body: JSON.stringify(service) });
    expect(saved.status, await saved.clone().text()).toBe(200);
    const { hash } = (await saved.json()) as { hash: string };
    const res = await fetch(`${node}/dev/services/${hash}`, { method: "POST", headers });
    return {
      status: res.status,
      error: res.status === 204 ? undefined : ((await res.json()) as { error: { code: string } }).error,
    };
  }
  const digestOf = (name: string) =>
    createHash("sha256")
      .update(readFileSync(join(COMPONENTS, name)))
      .digest("hex");

  it("downloads operator and aggregator components, checking each digest: 422 on a mismatch, 502 when unreachable", async () => {
    const trap = { uri: `${base}/components/trap.wasm`, digest: digestOf("trap.wasm") };
    const aggregator = { uri: `${base}/components/timer-aggregator.wasm`, digest: digestOf("timer-aggregator.wasm") };
    const node = running.devnet.nodes[0]!.url;
    const stored = async (digest: string) => (await fetch(`${node}/components/${digest}`)).status;
    expect(await stored(trap.digest)).toBe(404);
    expect(await stored(aggregator.digest)).toBe(404);

    const wrong = await registerDownloads(`0x${"61".repeat(20)}`, trap, { ...aggregator, digest: "00".repeat(32) });
    expect(wrong).toMatchObject({ status: 422, error: { code: "digest_mismatch" } });
    const gone = await registerDownloads(`0x${"62".repeat(20)}`, trap, {
      ...aggregator,
      uri: `http://127.0.0.1:${closedPort}/a.wasm`,
    });
    expect(gone).toMatchObject({ status: 502, error: { code: "component_unreachable" } });

    expect(await registerDownloads(`0x${"63".repeat(20)}`, trap, aggregator)).toEqual({
      status: 204,
      error: undefined,
    });
    expect(await stored(trap.digest)).toBe(200);
    expect(await stored(aggregator.digest)).toBe(200); // the aggregator's too, which WAVS does not fetch
  });

  it("registers only the service whose components all arrived", async () => {
    const { service_ids } = (await (await fetch(`${running.devnet.nodes[0]!.url}/services`)).json()) as {
      service_ids: string[];
    };
    expect(service_ids).toHaveLength(3); // the devnet's, the CLI-built one and the downloads
  });
});

describe("wavs-edge without a node", () => {
  it("prints help with examples and exits 0", async () => {
    const res = await cli(["--help"]);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain("Examples:");
    expect((await cli(["service", "--help"])).stdout).toContain("trigger set-block-interval");
  });

  it("fails with one line and exit 2 on a usage error", async () => {
    const res = await cli(["service", "--file", "missing.json", "workflow", "add", "--id", "x1y"]);
    expect(res.code).toBe(2);
    expect(res.stderr).toBe("error: cannot read missing.json; create it with `wavs-edge service init --name NAME`\n");
    expect((await cli(["no-such-command"])).code).toBe(2);
  });

  it("builds cron and block-interval workflows with permissions, config and env, as wavs-cli writes them", async () => {
    const file = "timers.json";
    const digest = "ab".repeat(32);
    const steps = [
      ["init", "--name", "timers", "--manager-chain", "evm:31337", "--manager-address", `0x${"AB".repeat(20)}`],
      ["workflow", "add", "--id", "every-minute"],
      [
        "trigger",
        "set-cron",
        "--workflow-id",
        "every-minute",
        "--schedule",
        "0 * * * * *",
        "--start-time",
        "1763900000123456789",
      ],
      ["component", "set-source-digest", "--workflow-id", "every-minute", "--digest", digest],
      ["component", "permissions", "--workflow-id", "every-minute", "--http-hosts", "api.example.com,b.example.com"],
      ["component", "config", "--workflow-id", "every-minute", "--values", "mode=fast,depth=3"],
      ["component", "env", "--workflow-id", "every-minute", "--values", "WAVS_ENV_API_KEY"],
      ["workflow", "add", "--id", "every-ten"],
      [
        "trigger",
        "set-block-interval",
        "--workflow-id",
        "every-ten",
        "--chain",
        "evm:31337",
        "--n-blocks",
        "10",
        "--start-block",
        "100",
      ],
      ["component", "set-source-digest", "--workflow-id", "every-ten", "--digest", digest],
      ["component", "permissions", "--workflow-id", "every-ten", "--http-hosts", "*", "--file-system", "true"],
    ];
    for (const step of steps) {
      const res = await cli(["service", "--file", file, ...step]);
      expect(res.code, `${step.join(" ")}: ${res.stderr}`).toBe(0);
    }
    const validated = await cli(["service", "--file", file, "validate", "--json"]);
    expect(validated.code, validated.stderr).toBe(0);
    expect(JSON.parse(validated.stdout)).toEqual({
      valid: true,
      file,
      workflows: ["every-minute", "every-ten"],
      component_digests: [digest, digest],
    });

    const text = await readFile(join(cwd, file), "utf8");
    expect(text).toContain('"start_time": 1763900000123456789'); // a bare u64, not rounded
    const service = JSON.parse(text);
    expect(service.manager).toEqual({ evm: { chain: "evm:31337", address: `0x${"ab".repeat(20)}` } });
    const minute = service.workflows["every-minute"];
    expect(minute.trigger).toEqual({
      cron: { schedule: "0 * * * * *", start_time: 1763900000123456800, end_time: null },
    });
    expect(minute.component).toMatchObject({
      source: { digest },
      permissions: { allowed_http_hosts: { only: ["api.example.com", "b.example.com"] }, file_system: false },
      config: { mode: "fast", depth: "3" },
      env_keys: ["WAVS_ENV_API_KEY"],
    });
    const ten = service.workflows["every-ten"];
    expect(ten.trigger).toEqual({
      block_interval: { chain: "evm:31337", n_blocks: 10, start_block: 100, end_block: null },
    });
    expect(ten.component.permissions).toMatchObject({ allowed_http_hosts: "all", file_system: true });

    const bad = await cli([
      "service",
      "--file",
      file,
      "component",
      "env",
      "--workflow-id",
      "every-ten",
      "--values",
      "API_KEY",
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe("error: env keys must start with WAVS_ENV_: API_KEY\n");
  }, 600_000); // fourteen CLI processes, each starting tsx: slow on a loaded 2-core machine

  it("explains what validate refuses", async () => {
    const file = "draft.json";
    await cli(["service", "--file", file, "init", "--name", "d"]);
    await cli(["service", "--file", file, "workflow", "add", "--id", "wf1"]);
    const res = await cli(["service", "--file", file, "validate"]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("workflow wf1 has no component source");
  });
});
