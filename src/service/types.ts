/**
 * A WAVS service as WAVS serialises it (snake_case keys and variants). u64 values are bigint so
 * they survive a round trip; parse JSON with `parseServiceJson` (service-json.ts), never JSON.parse.
 */

export type Hex = `0x${string}`;

/** Chain key such as `evm:31337`. */
export type ChainKey = string;

export interface Service {
  name: string;
  /** Keyed by workflow id; iterate in sorted id order (WAVS keeps a BTreeMap). */
  workflows: Record<string, Workflow>;
  status: "active" | "paused";
  manager: ServiceManager;
}

export type ServiceManager = { evm: { chain: ChainKey; address: Hex } };

export interface Workflow {
  trigger: Trigger;
  component: Component;
  submit: Submit;
}

export type Trigger =
  | { evm_contract_event: { address: Hex; chain: ChainKey; event_hash: Hex } }
  | {
      block_interval: {
        chain: ChainKey;
        n_blocks: number;
        start_block: bigint | null;
        end_block: bigint | null;
      };
    }
  | { cron: { schedule: string; start_time: bigint | null; end_time: bigint | null } }
  | "manual";

export type ComponentSource =
  | { download: { uri: string; digest: string } }
  | { registry: { digest: string; domain: string | null; version: string | null; package: string } }
  | { digest: string };

export type AllowedHttpHosts = "all" | "none" | { only: string[] };

export interface Permissions {
  allowed_http_hosts: AllowedHttpHosts;
  file_system: boolean;
  raw_sockets: boolean;
  dns_resolution: boolean;
}

export interface Component {
  source: ComponentSource;
  permissions: Permissions;
  fuel_limit: bigint | null;
  time_limit_seconds: bigint | null;
  config: Record<string, string>;
  env_keys: string[];
}

export type Submit = "none" | { aggregator: AggregatorSubmit };

/** `prefix: null` signs the bare keccak256 of the encoded envelope; "eip191" the EIP-191 hash of it. */
export type SignatureKind = { algorithm: "secp256k1"; prefix: "eip191" | null };

export interface AggregatorSubmit {
  component: Component;
  signature_kind: SignatureKind;
  /**
   * Written by WAVS before 2026-01-02, when every node became an aggregator. Kept as given so old
   * service JSON round-trips unchanged, and never read: the node's PEERS decide where signatures go.
   */
  url?: string;
}

/** The data a trigger fired with, as WAVS's TriggerData (PascalCase variants). */
export type TriggerData =
  | {
      EvmContractEvent: {
        chain: ChainKey;
        contract_address: Hex;
        log_data: { topics: Hex[]; data: Hex };
        tx_hash: Hex;
        block_number: bigint;
        log_index: bigint;
        block_hash: Hex;
        block_timestamp: bigint | null;
        tx_index: bigint;
      };
    }
  | { BlockInterval: { chain: ChainKey; block_height: bigint } }
  | { Cron: { trigger_time: bigint } }
  | { Raw: Uint8Array };

/** What a workflow's trigger fired with: which service and workflow, and the data. */
export interface TriggerAction {
  config: { service_id: string; workflow_id: string; trigger: Trigger };
  data: TriggerData;
}

/** One result of a component run. */
export interface WasmResponse {
  payload: Uint8Array;
  ordering: bigint | null;
  event_id_salt: Uint8Array | null;
}

/** Per-chain settings the node knows (also answered to components by get-evm-chain-config). */
export interface EvmChainConfig {
  key: ChainKey;
  chain_id: string;
  rpc_url: string;
  ws_endpoints?: string[];
  confirmations: number;
}
