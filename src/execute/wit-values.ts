/**
 * Conversions between WAVS's JSON shapes (src/service/types.ts) and the jco values of the
 * wavs:types@2.6.0 / wavs:operator@2.6.0 WIT types. Pure functions.
 */
import { bytesToHex, hexToBytes } from "viem";
import type { AggregatorAction, AggregatorInput } from "./aggregator-types";
import type {
  Component,
  Hex,
  EvmChainConfig,
  Service,
  Submit,
  Trigger,
  TriggerAction,
  TriggerData,
  WasmResponse,
  Workflow,
} from "../service/types";
import type {
  WitAggregatorAction,
  WitAggregatorInput,
  WitComponent,
  WitTxResult,
  WitEvmChainConfig,
  WitService,
  WitSubmit,
  WitTrigger,
  WitTriggerAction,
  WitTriggerData,
  WitWasmResponse,
  WitWorkflow,
} from "./guest/protocol";

const opt = <T>(value: T | null | undefined): T | undefined => (value === null ? undefined : value);

/** @throws Error for trigger data the WIT has no variant for here */
export function toWitTriggerAction(action: TriggerAction): WitTriggerAction {
  return {
    config: {
      serviceId: action.config.service_id,
      workflowId: action.config.workflow_id,
      trigger: toWitTrigger(action.config.trigger),
    },
    data: toWitTriggerData(action.data),
  };
}

export function toWitTrigger(trigger: Trigger): WitTrigger {
  if (trigger === "manual") return { tag: "manual" };
  if ("evm_contract_event" in trigger) {
    const t = trigger.evm_contract_event;
    return {
      tag: "evm-contract-event",
      val: { address: { rawBytes: hexToBytes(t.address) }, chain: t.chain, eventHash: hexToBytes(t.event_hash) },
    };
  }
  if ("block_interval" in trigger) {
    const t = trigger.block_interval;
    return {
      tag: "block-interval",
      val: { chain: t.chain, nBlocks: t.n_blocks, startBlock: opt(t.start_block), endBlock: opt(t.end_block) },
    };
  }
  const t = trigger.cron;
  return {
    tag: "cron",
    val: {
      schedule: t.schedule,
      startTime: t.start_time === null ? undefined : { nanos: t.start_time },
      endTime: t.end_time === null ? undefined : { nanos: t.end_time },
    },
  };
}

export function toWitTriggerData(data: TriggerData): WitTriggerData {
  if ("Raw" in data) return { tag: "raw", val: data.Raw };
  if ("BlockInterval" in data) {
    return {
      tag: "block-interval",
      val: { chain: data.BlockInterval.chain, blockHeight: data.BlockInterval.block_height },
    };
  }
  if ("Cron" in data) return { tag: "cron", val: { triggerTime: { nanos: data.Cron.trigger_time } } };
  const e = data.EvmContractEvent;
  return {
    tag: "evm-contract-event",
    val: {
      chain: e.chain,
      log: {
        address: { rawBytes: hexToBytes(e.contract_address) },
        data: { topics: e.log_data.topics.map((t) => hexToBytes(t)), data: hexToBytes(e.log_data.data) },
        txHash: hexToBytes(e.tx_hash),
        blockNumber: e.block_number,
        logIndex: e.log_index,
        blockHash: hexToBytes(e.block_hash),
        blockTimestamp: opt(e.block_timestamp),
        txIndex: e.tx_index,
      },
    },
  };
}

/** The service as `host.get-service` answers it: workflows in id order (WAVS keeps a BTreeMap). */
export function toWitService(service: Service): WitService {
  return {
    name: service.name,
    workflows: Object.keys(service.workflows)
      .sort(compareCodeUnits)
      .map((id) => [id, toWitWorkflow(service.workflows[id]!)]),
    status: { tag: service.status },
    manager: {
      tag: "evm",
      val: { chain: service.manager.evm.chain, address: { rawBytes: hexToBytes(service.manager.evm.address) } },
    },
  };
}

export function toWitWorkflow(workflow: Workflow): WitWorkflow {
  return {
    trigger: toWitTrigger(workflow.trigger),
    component: toWitComponent(workflow.component),
    submit: toWitSubmit(workflow.submit),
  };
}

export function toWitComponent(component: Component): WitComponent {
  const source = component.source;
  const hosts = component.permissions.allowed_http_hosts;
  return {
    source:
      "download" in source
        ? { tag: "download", val: { uri: source.download.uri, digest: source.download.digest } }
        : "registry" in source
          ? {
              tag: "registry",
              val: {
                digest: source.registry.digest,
                domain: opt(source.registry.domain),
                version: opt(source.registry.version),
                pkg: source.registry.package,
              },
            }
          : { tag: "digest", val: source.digest },
    permissions: {
      allowedHttpHosts: typeof hosts === "string" ? { tag: hosts } : { tag: "only", val: [...hosts.only] },
      fileSystem: component.permissions.file_system,
      rawSockets: component.permissions.raw_sockets,
      dnsResolution: component.permissions.dns_resolution,
    },
    fuelLimit: opt(component.fuel_limit),
    timeLimitSeconds: opt(component.time_limit_seconds),
    config: toConfigEntries(component.config),
    envKeys: [...component.env_keys],
  };
}

export function toWitSubmit(submit: Submit): WitSubmit {
  if (submit === "none") return { tag: "none" };
  const a = submit.aggregator;
  return {
    tag: "aggregator",
    val: {
      component: toWitComponent(a.component),
      signatureKind: {
        algorithm: { tag: a.signature_kind.algorithm },
        prefix: a.signature_kind.prefix === null ? undefined : { tag: a.signature_kind.prefix },
      },
    },
  };
}

/** Config pairs sorted by key, as WAVS's BTreeMap serialises them. */
export function toConfigEntries(config: Record<string, string>): [string, string][] {
  return Object.keys(config)
    .sort(compareCodeUnits)
    .map((k) => [k, config[k]!]);
}

export function toWitEvmChainConfig(chain: EvmChainConfig): WitEvmChainConfig {
  return { chainId: chain.chain_id, wsEndpoints: [...(chain.ws_endpoints ?? [])], httpEndpoint: chain.rpc_url };
}

/** @throws TypeError when the component returned something that is not a wasm-response list */
export function fromWitWasmResponses(responses: unknown): WasmResponse[] {
  if (!Array.isArray(responses)) throw new TypeError("run returned no list of wasm-response");
  return responses.map((r: WitWasmResponse) => ({
    payload: r.payload,
    ordering: r.ordering ?? null,
    event_id_salt: r.eventIdSalt ?? null,
  }));
}

/** Rust's String ordering (bytewise UTF-8); code units agree with it for the ASCII ids we allow. */
function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function toWitWasmResponse(response: WasmResponse): WitWasmResponse {
  return {
    payload: response.payload,
    ordering: opt(response.ordering),
    eventIdSalt: opt(response.event_id_salt),
  };
}

export function toWitAggregatorInput(input: AggregatorInput): WitAggregatorInput {
  return { triggerAction: toWitTriggerAction(input.action), operatorResponse: toWitWasmResponse(input.response) };
}

export function toWitTxResult(result: { ok: Hex } | { err: string }): WitTxResult {
  if ("ok" in result) return { tag: "ok", val: { tag: "evm", val: hexToBytes(result.ok) } };
  return { tag: "err", val: result.err };
}

/**
 * Converts what process-input / handle-timer-callback returned.
 * @throws TypeError when it is not a list of aggregator actions, or asks for a cosmos submission
 *   (this node submits to EVM chains only)
 */
export function fromWitAggregatorActions(actions: unknown): AggregatorAction[] {
  if (!Array.isArray(actions)) throw new TypeError("the component returned no list of aggregator-action");
  return actions.map((a: WitAggregatorAction): AggregatorAction => {
    if (a.tag === "timer") {
      const secs = a.val.delay.secs;
      if (secs > BigInt(Math.floor(Number.MAX_SAFE_INTEGER / 1000)))
        throw new TypeError(`timer delay of ${secs} s is out of range`);
      return { timer: { delay_ms: Number(secs) * 1000 } };
    }
    if (a.tag === "submit" && a.val.tag === "evm") {
      const { chain, address, gasPrice } = a.val.val;
      if (address.rawBytes.length !== 20) {
        throw new TypeError(`submit address has ${address.rawBytes.length} bytes, not 20`);
      }
      return {
        submit: {
          evm: {
            chain,
            address: bytesToHex(address.rawBytes),
            gas_price: gasPrice === undefined ? null : gasPrice.value[0] + (gasPrice.value[1] << 64n),
          },
        },
      };
    }
    if (a.tag === "submit") throw new TypeError(`cosmos submissions are not supported (chain ${a.val.val.chain})`);
    throw new TypeError("unknown aggregator-action");
  });
}
