/**
 * What the Worker and the dynamic worker running a component exchange (structured-clone data),
 * and the jco shapes of the WIT values involved: records as camelCase objects, variants as
 * `{tag, val}`, options as value-or-undefined, u64 as bigint, list<u8> as Uint8Array.
 */

export type Variant<T extends string, V = undefined> = V extends undefined ? { tag: T } : { tag: T; val: V };

export interface WitEvmAddress {
  rawBytes: Uint8Array;
}

export type WitTrigger =
  | { tag: "evm-contract-event"; val: { address: WitEvmAddress; chain: string; eventHash: Uint8Array } }
  | {
      tag: "block-interval";
      val: { chain: string; nBlocks: number; startBlock: bigint | undefined; endBlock: bigint | undefined };
    }
  | {
      tag: "cron";
      val: { schedule: string; startTime: { nanos: bigint } | undefined; endTime: { nanos: bigint } | undefined };
    }
  | { tag: "manual" };

export interface WitEvmEventLog {
  address: WitEvmAddress;
  data: { topics: Uint8Array[]; data: Uint8Array };
  txHash: Uint8Array;
  blockNumber: bigint;
  logIndex: bigint;
  blockHash: Uint8Array;
  blockTimestamp: bigint | undefined;
  txIndex: bigint;
}

export type WitTriggerData =
  | { tag: "evm-contract-event"; val: { chain: string; log: WitEvmEventLog } }
  | { tag: "block-interval"; val: { chain: string; blockHeight: bigint } }
  | { tag: "cron"; val: { triggerTime: { nanos: bigint } } }
  | { tag: "raw"; val: Uint8Array };

export interface WitTriggerAction {
  config: { serviceId: string; workflowId: string; trigger: WitTrigger };
  data: WitTriggerData;
}

export type WitComponentSource =
  | { tag: "download"; val: { uri: string; digest: string } }
  | {
      tag: "registry";
      val: { digest: string; domain: string | undefined; version: string | undefined; pkg: string };
    }
  | { tag: "digest"; val: string };

export interface WitComponent {
  source: WitComponentSource;
  permissions: {
    allowedHttpHosts: { tag: "all" } | { tag: "none" } | { tag: "only"; val: string[] };
    fileSystem: boolean;
    rawSockets: boolean;
    dnsResolution: boolean;
  };
  fuelLimit: bigint | undefined;
  timeLimitSeconds: bigint | undefined;
  config: [string, string][];
  envKeys: string[];
}

export type WitSubmit =
  | { tag: "none" }
  | {
      tag: "aggregator";
      val: {
        component: WitComponent;
        signatureKind: { algorithm: { tag: "secp256k1" }; prefix: { tag: "eip191" } | undefined };
      };
    };

export interface WitWorkflow {
  trigger: WitTrigger;
  component: WitComponent;
  submit: WitSubmit;
}

export interface WitService {
  name: string;
  workflows: [string, WitWorkflow][];
  status: { tag: "active" } | { tag: "paused" };
  manager: { tag: "evm"; val: { chain: string; address: WitEvmAddress } };
}

export interface WitEvmChainConfig {
  chainId: string;
  wsEndpoints: string[];
  httpEndpoint: string | undefined;
}

export interface WitWasmResponse {
  payload: Uint8Array;
  ordering: bigint | undefined;
  eventIdSalt: Uint8Array | undefined;
}

export type HostLogLevel = { tag: "error" | "warn" | "info" | "debug" | "trace" };

export interface WitAggregatorInput {
  triggerAction: WitTriggerAction;
  operatorResponse: WitWasmResponse;
}

/** wavs:types/core u128: two u64 halves, index 0 the low bits. */
export interface WitU128 {
  value: [bigint, bigint];
}

export type WitAggregatorAction =
  | { tag: "timer"; val: { delay: { secs: bigint } } }
  | {
      tag: "submit";
      val:
        | { tag: "evm"; val: { chain: string; address: WitEvmAddress; gasPrice: WitU128 | undefined } }
        | {
            tag: "cosmos";
            val: { chain: string; address: { bech32Addr: string; prefixLen: number }; gasPrice: WitU128 | undefined };
          };
    };

export type WitTxResult = { tag: "ok"; val: { tag: "evm"; val: Uint8Array } } | { tag: "err"; val: string };

/** Which export to call, with its arguments. */
export type GuestInvocation =
  | { fn: "run"; action: WitTriggerAction }
  | { fn: "process-input"; input: WitAggregatorInput }
  | { fn: "handle-timer-callback"; input: WitAggregatorInput }
  | { fn: "handle-submit-callback"; input: WitAggregatorInput; txResult: WitTxResult };

/** What `host.get-event-id` answers: the operator world derives it from a salt, the aggregator
 * world gets the id of the envelope being aggregated. */
export type GuestEventId = { defaultSalt: Uint8Array } | { fixed: Uint8Array };

/** One call, everything the component may see. */
export interface GuestCall {
  invocation: GuestInvocation;
  service: WitService;
  serviceId: string;
  workflowId: string;
  /** The component's public config, answered by `host.config-var`. */
  config: [string, string][];
  /** wasi:cli environment: only the WAVS_ENV_* values the workflow names in env_keys. */
  environment: [string, string][];
  evmChains: [string, WitEvmChainConfig][];
  eventId: GuestEventId;
  /** when the caller gives up on the run (epoch ms; its time_limit_seconds from the call) */
  deadline: number;
  /** the running component's own permission (an aggregator's, not its workflow's) */
  allowedHttpHosts: WitComponent["permissions"]["allowedHttpHosts"];
  /** file_system: the service's directory is preopened as `.` */
  fileSystem: boolean;
}

export type GuestFailureKind = "instantiate" | "trap" | "component-error";

/** `value` is what the export returned: wasm-responses for `run`, aggregator actions for
 * process-input and handle-timer-callback, undefined for handle-submit-callback. */
export type GuestOutcome =
  | { ok: true; value: unknown; logs: string[]; stats: GuestStats }
  | { ok: false; kind: GuestFailureKind; message: string; logs: string[]; stats: GuestStats };

/** How a call went inside the dynamic worker (times from its clock, which may be coarse). */
export interface GuestStats {
  /** the call created the component instance (first call, or the last one failed) */
  instantiated: boolean;
  instantiateMs: number;
  /** the export itself */
  runMs: number;
}
