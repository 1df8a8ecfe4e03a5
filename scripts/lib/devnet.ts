/**
 * A complete local network: anvil, the WAVS contracts, a wavs-edge node under `wrangler dev` and
 * the demo service registered on it. Used by `npm start`, `npm run demo` and the end-to-end tests.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPublicClient, createWalletClient, http, keccak256, toBytes, toHex, type Address } from "viem";
import { wavsServiceManagerAbi } from "../../src/chain/abi/wavs-service-manager";
import { anvilAccount, startAnvil } from "./anvil";
import { deployContracts } from "./deploy-contracts";
import { freePort, startNode, type RunningNode } from "./node-process";

/**
 * The demo node's operator mnemonic. Public, for local networks only: never use it on a real chain.
 * Deliberately not anvil's, so the node's signing keys and the funded anvil accounts stay apart.
 */
export const DEVNET_OPERATOR_MNEMONIC =
  "lesson impose canal major quiz slush collect execute supply analyst ten rapid";
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
  /** Preferred ports; taken ones fall back to free ports. */
  anvilPort?: number;
  nodePort?: number;
  /** How often the node polls the chain (drives the cron handler, which never fires locally); 0: never. */
  pollIntervalMs?: number;
  /** The node's state directory; kept after stop when given (e.g. to restart a node on it). */
  stateDir?: string;
  /** The chain's confirmation depth on the node (default 0). */
  confirmations?: number;
  /** RPC endpoints the node uses, in failover order, given anvil's URL (default: just anvil). */
  nodeRpcUrls?: (anvilUrl: string) => string[];
  /** More plain vars for the node (e.g. webhook secrets in tests). */
  extraVars?: Record<string, string>;
  onLog?: (line: string) => void;
  onStep?: (step: string) => void;
};

export type RunningDevnet = { devnet: Devnet; stop(): Promise<void> };

export async function startDevnet(params: StartDevnetParameters = {}): Promise<RunningDevnet> {
  const { onLog = () => {}, onStep = () => {}, pollIntervalMs = 500 } = params;
  const cleanups: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
    cleanups.length = 0;
  };
  try {
    const components = await readBuiltComponents();

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
    });

    onStep("starting the node (wrangler dev)");
    const stateDir = params.stateDir ?? (await mkdtemp(join(tmpdir(), "wavs-edge-node-")));
    if (!params.stateDir) cleanups.push(() => rm(stateDir, { recursive: true, force: true }));
    const submitter = anvilAccount(2);
    const node: RunningNode = await startNode({
      stateDir,
      port: await freePort(params.nodePort ?? 8787),
      onLog,
      secrets: {
        WAVS_SIGNING_MNEMONIC: DEVNET_OPERATOR_MNEMONIC,
        WAVS_AGGREGATOR_EVM_CREDENTIAL: toHex(submitter.getHdKey().privateKey!),
        WAVS_BEARER_TOKEN: DEVNET_BEARER_TOKEN,
      },
      vars: {
        CHAINS: JSON.stringify([
          {
            key: chainKey,
            chain_id: anvil.chainId,
            rpc_urls: params.nodeRpcUrls?.(anvil.rpcUrl) ?? [anvil.rpcUrl],
            confirmations: params.confirmations ?? 0,
          },
        ]),
        ...params.extraVars,
      },
    });
    cleanups.push(node.stop);
    const api = nodeApi(node.url, DEVNET_BEARER_TOKEN);

    onStep("uploading components");
    const squareDigest = await api.uploadComponent(components.square);
    const aggregatorDigest = await api.uploadComponent(components.aggregator);

    onStep("registering the operator and the service");
    const manager = { evm: { chain: chainKey, address: contracts.serviceManager } };
    const signer = await api.post<{ secp256k1: { hd_index: number; evm_address: Address } }>(
      "/services/signer",
      { service_manager: manager },
    );
    const signingAddress = signer.secp256k1.evm_address;
    const serviceJson = demoServiceJson({
      chainKey,
      nodeUrl: node.url,
      contracts,
      squareDigest,
      aggregatorDigest,
    });
    const { hash } = await api.post<{ hash: string }>("/dev/services", serviceJson);
    await managerAdmin(anvil.rpcUrl, contracts.serviceManager, async (write) => {
      await write("setOperator", [signingAddress, signingAddress, 1n]);
      await write("setServiceURI", [`${node.url}/dev/services/${hash}`]);
    });
    await api.post("/services", { service_manager: manager });

    if (pollIntervalMs > 0) {
      const ticker = setInterval(() => {
        fetch(`${node.url}/cdn-cgi/handler/scheduled`).catch(() => {});
      }, pollIntervalMs);
      cleanups.push(async () => clearInterval(ticker));
    }

    const serviceId = (await api.get<{ service_ids: string[] }>("/services")).service_ids[0]!;
    const devnet: Devnet = {
      chain: { key: chainKey, chain_id: anvil.chainId, rpc_url: anvil.rpcUrl },
      contracts: { service_manager: contracts.serviceManager, trigger: contracts.trigger, submit: contracts.submit },
      nodes: [{ url: node.url, signing_address: signingAddress, bearer_token: DEVNET_BEARER_TOKEN }],
      service: { id: serviceId, workflow_id: WORKFLOW_ID },
      accounts: { trigger_private_key: toHex(anvilAccount(1).getHdKey().privateKey!) },
    };
    return { devnet, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

export async function writeDevnetJson(devnet: Devnet, path = join(process.cwd(), "devnet.json")) {
  await writeFile(path, JSON.stringify(devnet, null, 2) + "\n");
}

async function readBuiltComponents() {
  const dir = join(process.cwd(), "build", "components");
  try {
    return {
      square: await readFile(join(dir, "square.wasm")),
      aggregator: await readFile(join(dir, "simple-aggregator.wasm")),
    };
  } catch {
    throw new Error("components are not built: run `npm run build` first");
  }
}

/** The demo service in WAVS's service JSON format. */
function demoServiceJson(p: {
  chainKey: string;
  nodeUrl: string;
  contracts: { serviceManager: Address; trigger: Address; submit: Address };
  squareDigest: string;
  aggregatorDigest: string;
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
            url: p.nodeUrl,
            component: component(p.aggregatorDigest, {
              chain: p.chainKey,
              service_handler: p.contracts.submit.toLowerCase(),
            }),
            signature_kind: { algorithm: "secp256k1", prefix: "eip191" },
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
  const call = async <T>(method: string, path: string, body?: unknown, raw?: Uint8Array): Promise<T> => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(raw ? { "content-type": "application/wasm" } : body !== undefined ? { "content-type": "application/json" } : {}),
      },
      body: raw ?? (body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body)),
    });
    const text = await res.text();
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
  fn: (write: (functionName: "setOperator" | "setServiceURI", args: readonly unknown[]) => Promise<void>) => Promise<void>,
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

