/**
 * Runs a workflow's components in dynamic workers (see load-component.ts): the operator world's
 * `run` for a trigger action, and the aggregator world's three exports for an operator response.
 */
import type { Component, EvmChainConfig, Service, TriggerAction, WasmResponse } from "../service/types";
import { encodeTriggerDataSalt } from "../service/event-id";
import { hexToBytes } from "viem";
import type { AggregatorAction, AggregatorCall, AggregatorInput } from "./aggregator-types";
import { ExecutionError } from "./errors";
import type { GuestEventId, GuestInvocation, GuestOutcome } from "./guest/protocol";
import { exports } from "cloudflare:workers";
import { ComponentHost } from "./host/component-host";
import { outboundPolicyKey, toOutboundPolicy, type OutboundPolicy } from "./outbound-policy";
import { loadComponent } from "./load-component";
import { createSecretMasker } from "./mask-secrets";
import { applyRunLimits, runLimitCeilings, type CappedLimit, type RunLimits } from "./run-limits";
import { envGrants, isEnvKeyGranted, type EnvGrants } from "../service/env-grants";
import {
  fromWitAggregatorActions,
  fromWitWasmResponses,
  toConfigEntries,
  toWitAggregatorInput,
  toWitComponent,
  toWitEvmChainConfig,
  toWitService,
  toWitTriggerAction,
  toWitTxResult,
} from "./wit-values";

export { ExecutionError };
export type { AggregatorAction, AggregatorCall, AggregatorInput };

export interface RunOperatorComponentParameters {
  service: Service;
  /** 64 hex chars, no 0x */
  serviceId: string;
  workflowId: string;
  action: TriggerAction;
  /** answered to the component by host.get-evm-chain-config */
  chains: EvmChainConfig[];
}

/** What a run cost besides the component itself; for metrics and tests. */
export interface RunDebug {
  coldLoad: boolean;
  transpiled: boolean;
  transpileMs?: number;
  /** a new component instance was created for this run (the first, or the last one failed) */
  instantiated: boolean;
  /** stage times of a cold load (artifact read, transpile, artifact write) and inside the guest */
  stagesMs: Record<string, number>;
}

export interface RunOperatorComponentReturnType {
  responses: WasmResponse[];
  /** host.log lines (`level: message`) and stdout/stderr lines (`stdout: …`) */
  logs: string[];
  /** wall clock of the whole call, load included */
  durationMs: number;
  debug: RunDebug;
  /** limits the workflow asked for above the operator's ceilings, run at the ceiling instead */
  capped: CappedLimit[];
}

export type RunOperatorComponentErrorType = ExecutionError;

/**
 * Runs `service.workflows[workflowId].component` on `action`.
 * @throws ExecutionError: component-missing (unknown workflow, no digest, bytes not stored),
 *   instantiate, trap, out-of-time (the component's time_limit_seconds capped at MAX_TIME_LIMIT_SECONDS, which
 *   is also the limit when it sets none; see run-limits.ts) or
 *   component-error (the component returned `err`; the message is the component's)
 */
export async function runOperatorComponent(
  env: Env,
  params: RunOperatorComponentParameters,
): Promise<RunOperatorComponentReturnType> {
  const { service, workflowId, action } = params;
  const workflow = service.workflows[workflowId];
  if (!workflow) throw new ExecutionError("component-missing", `service has no workflow ${workflowId}`);
  const result = await invokeComponent(env, {
    ...params,
    component: workflow.component,
    invocation: { fn: "run", action: toWitTriggerAction(action) },
    eventId: { defaultSalt: encodeTriggerDataSalt(action.data) },
  });
  let responses: WasmResponse[];
  try {
    responses = fromWitWasmResponses(result.value);
  } catch (e) {
    throw new ExecutionError("trap", errorText(e), { digest: result.digest });
  }
  return { responses, logs: result.logs, durationMs: result.durationMs, debug: result.debug, capped: result.capped };
}

export interface RunAggregatorComponentParameters {
  service: Service;
  /** 64 hex chars, no 0x */
  serviceId: string;
  /** the workflow whose submission is being aggregated */
  workflowId: string;
  /** the aggregator component (the workflow's `submit.aggregator.component`) */
  component: Component;
  call: AggregatorCall;
  /** answered to the component by host.get-evm-chain-config */
  chains: EvmChainConfig[];
}

export interface RunAggregatorComponentReturnType {
  /** empty for handle-submit-callback */
  actions: AggregatorAction[];
  logs: string[];
  durationMs: number;
  debug: RunDebug;
}

/**
 * Calls one export of an aggregator component (wavs:aggregator@2.6.0); `host.get-event-id()`
 * answers `call.input.eventId`.
 * @throws ExecutionError: component-missing, instantiate (also: the component is not an
 *   aggregator), trap (also: it asked for something this node cannot do, e.g. a cosmos
 *   submission), out-of-time or component-error (its `err`, message verbatim); TypeError when
 *   `call.input.eventId` is not 20 bytes
 */
export async function runAggregatorComponent(
  env: Env,
  params: RunAggregatorComponentParameters,
): Promise<RunAggregatorComponentReturnType> {
  const call = params.call;
  const input = toWitAggregatorInput(call.input);
  const invocation: GuestInvocation =
    call.fn === "handle-submit-callback"
      ? { fn: call.fn, input, txResult: toWitTxResult(call.txResult) }
      : { fn: call.fn, input };
  const eventId = hexToBytes(call.input.eventId);
  if (eventId.length !== 20) throw new TypeError(`event id has ${eventId.length} bytes, not 20`);
  const result = await invokeComponent(env, { ...params, invocation, eventId: { fixed: eventId } });
  let actions: AggregatorAction[] = [];
  if (call.fn !== "handle-submit-callback") {
    try {
      actions = fromWitAggregatorActions(result.value);
    } catch (e) {
      throw new ExecutionError("trap", errorText(e), { digest: result.digest });
    }
  }
  return { actions, logs: result.logs, durationMs: result.durationMs, debug: result.debug };
}

interface InvokeParameters {
  service: Service;
  serviceId: string;
  workflowId: string;
  component: Component;
  chains: EvmChainConfig[];
  invocation: GuestInvocation;
  eventId: GuestEventId;
}

interface InvokeResult {
  /** limits the component asked for above the operator's ceilings (applied: the ceiling) */
  capped: CappedLimit[];
  value: unknown;
  logs: string[];
  digest: string;
  durationMs: number;
  debug: RunDebug;
}

/** Loads the component and calls one export within its time limit. */
async function invokeComponent(env: Env, params: InvokeParameters): Promise<InvokeResult> {
  const started = Date.now();
  const { component } = params;
  const digest = componentDigest(component.source);
  if (!digest || !/^[0-9a-f]{64}$/.test(digest)) {
    throw new ExecutionError("component-missing", `workflow ${params.workflowId} names no valid component digest`);
  }

  const limits = applyRunLimits(component, runLimitCeilings(env));
  const limitSeconds = limits.timeLimitSeconds;
  const limitMs = limitSeconds * 1000;
  const policy = toOutboundPolicy(component.permissions.allowed_http_hosts);
  const outbound = {
    key: outboundPolicyKey(policy),
    gate: policy ? gateExports().OutboundGate({ props: policy }) : null,
  };
  const { guest, report, markWarm } = await loadComponent(env, digest, {
    cpuLimitMs: Math.min(limitMs, MAX_CPU_LIMIT_MS),
    outbound,
  });
  const prepareMs = Date.now() - started;

  let outcome: GuestOutcome;
  let callMs = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const callStarted = Date.now();
  try {
    outcome = await Promise.race([
      guest.call(
        {
          invocation: params.invocation,
          service: toWitService(params.service),
          serviceId: params.serviceId,
          workflowId: params.workflowId,
          config: toConfigEntries(component.config),
          environment: grantedEnvironment(env, params.serviceId, component.env_keys),
          evmChains: params.chains.map((c) => [c.key, toWitEvmChainConfig(c)]),
          eventId: params.eventId,
          deadline: callStarted + limitMs,
          allowedHttpHosts: toWitComponent(component).permissions.allowedHttpHosts,
          fileSystem: component.permissions.file_system,
        },
        new ComponentHost(env, params.serviceId, { fileSystem: component.permissions.file_system }),
      ) as Promise<GuestOutcome>,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new ExecutionError("out-of-time", outOfTime(limits), { digest })), limitMs);
      }),
    ]);
    callMs = Date.now() - callStarted;
  } catch (e) {
    if (e instanceof ExecutionError) throw e;
    if (report.error) throw report.error;
    throw new ExecutionError("instantiate", `component worker failed: ${errorText(e)}`, { digest, cause: e });
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    await report.pendingWrite;
  }

  markWarm();
  const mask = createSecretMasker(env);
  const logs = outcome.logs.map(mask);
  // A run that held the thread past its limit (the timer could not fire meanwhile) is out of
  // time whatever it returned, as if it had been interrupted at the deadline.
  if (callMs > limitMs) {
    throw new ExecutionError("out-of-time", outOfTime(limits), { digest, logs });
  }
  if (!outcome.ok) throw new ExecutionError(outcome.kind, mask(outcome.message), { digest, logs });
  return {
    value: outcome.value,
    logs,
    digest,
    capped: limits.capped,
    durationMs: Date.now() - started,
    debug: {
      coldLoad: report.loaded,
      transpiled: report.transpiled,
      transpileMs: report.transpileMs,
      instantiated: outcome.stats.instantiated,
      stagesMs: {
        ...report.stagesMs,
        prepare: prepareMs,
        call: callMs,
        instantiate: outcome.stats.instantiateMs,
        run: outcome.stats.runMs,
      },
    },
  };
}

/** Workers' longest CPU limit for a (dynamic) worker. */
const MAX_CPU_LIMIT_MS = 300_000;

function outOfTime(limits: RunLimits): string {
  const cap = limits.capped.find((c) => c.field === "time_limit_seconds");
  return `component ran longer than ${limits.timeLimitSeconds} s${cap ? ` (it asked for ${cap.asked} s; MAX_TIME_LIMIT_SECONDS caps it)` : ""}`;
}

function componentDigest(source: Component["source"]): string | undefined {
  if ("digest" in source) return source.digest;
  if ("download" in source) return source.download.digest;
  return source.registry.digest;
}

/** The OutboundGate loopback of whichever Worker runs this (the node, or the exec Worker). */
function gateExports(): { OutboundGate: (options: { props: OutboundPolicy }) => Fetcher } {
  if ((exports as unknown as Record<string, unknown>).OutboundGate === undefined)
    throw new ExecutionError("instantiate", "this Worker exports no OutboundGate: component HTTP cannot be gated");
  return exports as unknown as ReturnType<typeof gateExports>;
}

/**
 * The WAVS_ENV_* secrets this component lists that the operator granted its service
 * (SERVICE_ENV_GRANTS, checked at registration too, and again here: grants can be withdrawn);
 * nothing else from env. A SERVICE_ENV_GRANTS that does not parse grants nothing.
 */
function grantedEnvironment(env: Env, serviceId: string, keys: string[]): [string, string][] {
  const vars = env as unknown as Record<string, unknown>;
  let grants: EnvGrants;
  try {
    grants = envGrants(env);
  } catch {
    return [];
  }
  return keys
    .filter((k) => k.startsWith("WAVS_ENV_") && typeof vars[k] === "string" && isEnvKeyGranted(grants, serviceId, k))
    .map((k) => [k, vars[k] as string]);
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
