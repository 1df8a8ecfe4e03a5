/**
 * A complete local network: anvil, the WAVS contracts, N wavs-edge nodes under `wrangler dev` (one
 * per operator, each with its own mnemonic, state directory, port and submitting account) and the
 * demo service registered on all of them. Used by `npm start`, `npm run demo`, `npm run devnet` and
 * the end-to-end and aggregation tests.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPublicClient, createWalletClient, http, keccak256, toBytes, toHex, type Address } from "viem";
import { wavsServiceManagerAbi } from "./contracts/wavs-service-manager";
import { anvilAccount, startAnvil } from "./anvil";
import { deployContracts } from "./deploy-contracts";
import { freePort, startNode, type RunningNode } from "./node-process";

/**
 * The demo node's operator mnemonic. Public, for local networks only: never use it on a real chain.
 * Deliberately not anvil's, so the node's signing keys and the funded anvil accounts stay apart.
 */
export const DEVNET_OPERATOR_MNEMONIC = "lesson impose canal major quiz slush collect execute supply analyst ten rapid";

/**
 * One public mnemonic per devnet operator (the first is DEVNET_OPERATOR_MNEMONIC; the others are
 * BIP-39 encodings of sha256("wavs-edge devnet operator i")[0..16]). Local networks only: anyone can
 * derive these keys.
 */
export const DEVNET_OPERATOR_MNEMONICS = [
  DEVNET_OPERATOR_MNEMONIC,
  "subject depend wink exchange copy text slab degree mule model visual leopard",
  "lemon train because say three toddler glance coconut scare ordinary hammer caught",
  "direct wall scrub travel build tray siege attend toy round tilt loop",
  "whisper winner book throw fork patch control shy whisper scene virus soon",
  "fruit phone foot flame enhance swear silly humble purse balcony wait favorite",
  "off spider raise disease exile way summer hood scare foil balance nurse",
] as const;

/** Anvil accounts 0 (deployer, manager owner) and 1 (trigger sender) are taken; node i pays from 2 + i. */
const FIRST_SUBMITTER_ACCOUNT = 2;
export const DEVNET_BEARER_TOKEN = "devnet-token";
export const NEW_TRIGGER_EVENT_HASH = keccak256(toBytes("NewTrigger(bytes)"));
const WORKFLOW_ID = "default";

export type Devnet = {
  chain: { key: string; chain_id: number; rpc_url: string };
  contracts: { service_manager: Address; trigger: Address; submit: Address };
  nodes: { url: string; signing_address: Address; bearer_token: string }[];
  service: { id: string; workflow_id: string };
  accounts: { trigger_private_key: `0x${string}` };
};

export type StartDevnetParameters = {
  /** Operators, one node each (1–7); default 1. All get weight 1; the quorum is 2/3. */
  operators?: number;
  /** Milliseconds a standby aggregator gives the node ranked before it (AGGREGATOR_GRACE_MS). */
  aggregatorGraceMs?: number;
  /** Preferred ports (node i prefers nodePort + i); taken ones fall back to free ports; 0: random. */
  anvilPort?: number;
  nodePort?: number;
  /** Extra vars for every node (e.g. TASK_BURN_SECONDS). */
  nodeVars?: Record<string, string>;
  /** Node 0's state directory; kept after stop when given (e.g. to restart a node on it). */
  stateDir?: string;
  /** How often the nodes poll the chain (drives the cron handler, which never fires locally); 0: never. */
  pollIntervalMs?: number;
  /** The chain's confirmation depth on the nodes (default 0). */
  confirmations?: number;
  /** RPC endpoints the nodes use, in failover order, given anvil's URL (default: just anvil). */
  nodeRpcUrls?: (anvilUrl: string) => string[];
  /** More plain vars for the nodes (e.g. webhook secrets in tests). */
  extraVars?: Record<string, string>;
  /**
   * The aggregator component: a built component's name under build/components (default
   * "simple-aggregator") and config besides `chain` and `service_handler`.
   */
  aggregator?: { component: string; config?: Record<string, string> };
  /** The service's signature_kind.prefix, and so what the manager verifies (default "eip191"). */
  signaturePrefix?: "eip191" | null;
  onLog?: (line: string) => void;
  onStep?: (step: string) => void;
};

/** One operator's node; stop() and start() keep its state directory and port (for failure tests). */
export type DevnetNode = {
  url: string;
  submitter: Address;
  running(): boolean;
  stop(): Promise<void>;
  /** Kills it at once (SIGKILL: no graceful shutdown); start() brings it back on its state. */
  kill(): Promise<void>;
  start(): Promise<void>;
  /** Freezes or thaws the running node (see RunningNode.pause). */
  pause(paused: boolean): void;
};

export type RunningDevnet = { devnet: Devnet; nodes: DevnetNode[]; stop(): Promise<void> };

export async function startDevnet(params: StartDevnetParameters = {}): Promise<RunningDevnet> {
  const { onLog = () => {}, onStep = () => {}, pollIntervalMs = 500, operators = 1 } = params;
  if (!Number.isInteger(operators) || operators < 1 || operators > DEVNET_OPERATOR_MNEMONICS.length) {
    throw new Error(`operators must be an integer from 1 to ${DEVNET_OPERATOR_MNEMONICS.length}`);
  }
  const cleanups: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
    cleanups.length = 0;
  };
  try {
    const components = await readBuiltComponents(params.aggregator?.component);

    onStep("starting anvil");
    const anvil = await startAnvil({ port: await freePort(params.anvilPort ?? 8545) });
    cleanups.push(anvil.stop);
    const chainKey = `evm:${anvil.chainId}`;

    onStep("deploying contracts");
    const deployer = anvilAccount(0);
    const contracts = await deployContracts({
      rpcUrl: anvil.rpcUrl,
      deployer,
      operators: [],
      threshold: { numerator: 2, denominator: 3 },
      signaturePrefix: params.signaturePrefix === undefined ? "eip191" : params.signaturePrefix,
    });

    // Ports first: every node's PEERS lists all nodes' URLs before any of them starts.
    const ports: number[] = [];
    for (let i = 0; i < operators; i++) {
      // nodePort 0: every node on a random free port (tests running side by side).
      let port = await freePort(params.nodePort === 0 ? 0 : (params.nodePort ?? 8787) + i);
      while (ports.includes(port)) port = await freePort();
      ports.push(port);
    }
    const urls = ports.map((port) => `http://127.0.0.1:${port}`);
    const chains = JSON.stringify([
      {
        key: chainKey,
        chain_id: anvil.chainId,
        rpc_urls: params.nodeRpcUrls?.(anvil.rpcUrl) ?? [anvil.rpcUrl],
        confirmations: params.confirmations ?? 0,
      },
    ]);

    onStep(operators === 1 ? "starting the node (wrangler dev)" : `starting ${operators} nodes (wrangler dev)`);
    const nodes: DevnetNode[] = [];
    for (let i = 0; i < operators; i++) {
      const given = i === 0 ? params.stateDir : undefined;
      const stateDir = given ?? (await mkdtemp(join(tmpdir(), `wavs-edge-node${i}-`)));
      if (!given) cleanups.push(() => rm(stateDir, { recursive: true, force: true }));
      const submitter = anvilAccount(FIRST_SUBMITTER_ACCOUNT + i);
      let current: RunningNode | undefined;
      const nodeLog = operators === 1 ? onLog : (line: string) => onLog(`[node${i}] ${line}`);
      const launch = () =>
        startNode({
          stateDir,
          port: ports[i]!,
          onLog: nodeLog,
          secrets: {
            WAVS_SIGNING_MNEMONIC: DEVNET_OPERATOR_MNEMONICS[i]!,
            WAVS_AGGREGATOR_EVM_CREDENTIAL: toHex(submitter.getHdKey().privateKey!),
            WAVS_BEARER_TOKEN: DEVNET_BEARER_TOKEN,
          },
          vars: {
            CHAINS: chains,
            // Everything on a devnet lives on 127.0.0.1: service URIs and downloads included.
            ALLOW_PRIVATE_NETWORK_URIS: "true",
            ...(operators > 1 ? { NODE_URL: urls[i]!, PEERS: JSON.stringify(urls) } : {}),
            ...(params.aggregatorGraceMs !== undefined
              ? { AGGREGATOR_GRACE_MS: String(params.aggregatorGraceMs) }
              : {}),
            ...params.extraVars,
            ...params.nodeVars,
          },
        });
      const start = async () => {
        if (current) return;
        try {
          current = await launch();
        } catch (e) {
          // A lone node (no PEERS naming its URL) can move when a devnet beside it took the port.
          if (operators > 1 || params.nodePort === 0) throw e;
          ports[i] = await freePort(0);
          urls[i] = `http://127.0.0.1:${ports[i]}`;
          node.url = urls[i]!;
          current = await launch();
        }
      };
      const node: DevnetNode = {
        url: urls[i]!,
        submitter: submitter.address,
        running: () => current !== undefined,
        start,
        pause: (paused) => current?.pause(paused),
        stop: async () => {
          const was = current;
          current = undefined;
          await was?.stop();
        },
        kill: async () => {
          const was = current;
          current = undefined;
          await was?.kill();
        },
      };
      nodes.push(node);
      cleanups.push(node.stop);
    }
    // wrangler dev is heavy on 2 cores: start the nodes together, but never fail half-started.
    await Promise.all(nodes.map((n) => n.start()));

    onStep("uploading components");
    const apis = nodes.map((n) => nodeApi(n.url, DEVNET_BEARER_TOKEN));
    const api = apis[0]!;
    const squareDigest = await api.uploadComponent(components.square);
    const aggregatorDigest = await api.uploadComponent(components.aggregator);
    for (const other of apis.slice(1)) {
      await other.uploadComponent(components.square);
      await other.uploadComponent(components.aggregator);
    }

    onStep(operators === 1 ? "registering the operator and the service" : "registering the operators and the service");
    const manager = { evm: { chain: chainKey, address: contracts.serviceManager } };
    const signingAddresses: Address[] = [];
    for (const a of apis) {
      const signer = await a.post<{ secp256k1: { hd_index: number; evm_address: Address } }>("/services/signer", {
        service_manager: manager,
      });
      signingAddresses.push(signer.secp256k1.evm_address);
    }
    const serviceJson = demoServiceJson({
      chainKey,
      contracts,
      squareDigest,
      aggregatorDigest,
      aggregatorConfig: params.aggregator?.config ?? {},
      signaturePrefix: params.signaturePrefix === undefined ? "eip191" : params.signaturePrefix,
    });
    const { hash } = await api.post<{ hash: string }>("/dev/services", serviceJson);
    await managerAdmin(anvil.rpcUrl, contracts.serviceManager, async (write) => {
      for (const address of signingAddresses) await write("setOperator", [address, address, 1n]);
      await write("setServiceURI", [`${urls[0]}/dev/services/${hash}`]);
    });
    for (const a of apis) await a.post("/services", { service_manager: manager });

    if (pollIntervalMs > 0) {
      // One scheduled run in flight per node: a run costs ~0.25 s of CPU under wrangler dev (its D1
      // queries), so a slow or frozen node must not pile up runs that then all start at once.
      const ticking = new Set<DevnetNode>();
      const ticker = setInterval(() => {
        for (const n of nodes) {
          if (!n.running() || ticking.has(n)) continue;
          ticking.add(n);
          fetch(`${n.url}/cdn-cgi/handler/scheduled`)
            .then((r) => r.body?.cancel())
            .catch(() => {})
            .finally(() => ticking.delete(n));
        }
      }, pollIntervalMs);
      cleanups.push(async () => clearInterval(ticker));
    }

    const serviceId = (await api.get<{ service_ids: string[] }>("/services")).service_ids[0]!;
    const devnet: Devnet = {
      chain: { key: chainKey, chain_id: anvil.chainId, rpc_url: anvil.rpcUrl },
      contracts: { service_manager: contracts.serviceManager, trigger: contracts.trigger, submit: contracts.submit },
      nodes: nodes.map((n, i) => ({
        url: n.url,
        signing_address: signingAddresses[i]!,
        bearer_token: DEVNET_BEARER_TOKEN,
      })),
      service: { id: serviceId, workflow_id: WORKFLOW_ID },
      accounts: { trigger_private_key: toHex(anvilAccount(1).getHdKey().privateKey!) },
    };
    return { devnet, nodes, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

export async function writeDevnetJson(devnet: Devnet, path = join(process.cwd(), "devnet.json")) {
  await writeFile(path, JSON.stringify(devnet, null, 2) + "\n");
}

async function readBuiltComponents(aggregator = "simple-aggregator") {
  const dir = join(process.cwd(), "build", "components");
  try {
    return {
      square: await readFile(join(dir, "square.wasm")),
      aggregator: await readFile(join(dir, `${aggregator}.wasm`)),
    };
  } catch {
    throw new Error("components are not built: run `npm run build` first");
  }
}

/** The demo service in WAVS's current service JSON format (no aggregator url: PEERS decide). */
function demoServiceJson(p: {
  chainKey: string;
  contracts: { serviceManager: Address; trigger: Address; submit: Address };
  squareDigest: string;
  aggregatorDigest: string;
  aggregatorConfig: Record<string, string>;
  signaturePrefix: "eip191" | null;
}): string {
  const permissions = { allowed_http_hosts: "none", file_system: false, raw_sockets: false, dns_resolution: false };
  const component = (digest: string, config: Record<string, string>) => ({
    source: { digest },
    permissions,
    fuel_limit: null,
    time_limit_seconds: 30,
    config,
    env_keys: [],
  });
  return JSON.stringify({
    name: "wavs-edge demo: square",
    workflows: {
      [WORKFLOW_ID]: {
        trigger: {
          evm_contract_event: {
            address: p.contracts.trigger.toLowerCase(),
            chain: p.chainKey,
            event_hash: NEW_TRIGGER_EVENT_HASH,
          },
        },
        component: component(p.squareDigest, {}),
        submit: {
          aggregator: {
            component: component(p.aggregatorDigest, {
              ...p.aggregatorConfig,
              chain: p.chainKey,
              service_handler: p.contracts.submit.toLowerCase(),
            }),
            signature_kind: { algorithm: "secp256k1", prefix: p.signaturePrefix },
          },
        },
      },
    },
    status: "active",
    manager: { evm: { chain: p.chainKey, address: p.contracts.serviceManager.toLowerCase() } },
  });
}

/** A tiny client for the node's HTTP API that turns JSON errors into one-line exceptions. */
export function nodeApi(url: string, token: string) {
  const send = (method: string, path: string, body?: unknown, raw?: Uint8Array) =>
    fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(raw
          ? { "content-type": "application/wasm" }
          : body !== undefined
            ? { "content-type": "application/json" }
            : {}),
      },
      body: raw ?? (body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body)),
    });
  const call = async <T>(method: string, path: string, body?: unknown, raw?: Uint8Array): Promise<T> => {
    let res = await send(method, path, body, raw);
    let text = await res.text();
    // wrangler dev answers this when the local runtime restarts under a request (seen on a loaded
    // machine while a component transpiles); the devnet's calls are idempotent: send it again.
    for (let attempt = 1; res.status === 503 && text.startsWith("Your worker restarted") && attempt < 5; attempt++) {
      await new Promise((r) => setTimeout(r, 1_000 * attempt));
      res = await send(method, path, body, raw);
      text = await res.text();
    }
    if (!res.ok) {
      let message = text;
      try {
        message = JSON.parse(text).error.message;
      } catch {}
      throw new Error(`${method} ${path} → ${res.status}: ${message}`);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  };
  return {
    get: <T>(path: string) => call<T>("GET", path),
    post: <T = void>(path: string, body: unknown) => call<T>("POST", path, body),
    uploadComponent: async (bytes: Uint8Array) =>
      (await call<{ digest: string }>("POST", "/dev/components", undefined, bytes)).digest,
  };
}

async function managerAdmin(
  rpcUrl: string,
  address: Address,
  fn: (
    write: (functionName: "setOperator" | "setServiceURI", args: readonly unknown[]) => Promise<void>,
  ) => Promise<void>,
) {
  const account = anvilAccount(0);
  const wallet = createWalletClient({ account, transport: http(rpcUrl) });
  const client = createPublicClient({ transport: http(rpcUrl) });
  await fn(async (functionName, args) => {
    const hash = await wallet.writeContract({
      chain: null,
      address,
      abi: wavsServiceManagerAbi,
      functionName,
      args: args as never,
    });
    await client.waitForTransactionReceipt({ hash });
  });
}
