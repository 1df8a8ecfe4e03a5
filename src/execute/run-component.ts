/**
 * Runs a workflow's operator component for one trigger action, in a dynamic worker (see
 * load-component.ts), and returns its responses.
 */
import type { EvmChainConfig, Service, TriggerAction, WasmResponse } from "../service/types";
import { encodeTriggerDataSalt } from "../sign/event-id";
import { ExecutionError } from "./errors";

export { ExecutionError };
import type { GuestCall, GuestOutcome } from "./guest/protocol";
import { loadComponent } from "./load-component";
import { DEFAULT_TIME_LIMIT_SECONDS } from "./runtime-config";
import {
  fromWitWasmResponses,
  toConfigEntries,
  toWitEvmChainConfig,
  toWitService,
  toWitTriggerAction,
} from "./wit-values";

export interface RunOperatorComponentParameters {
  service: Service;
  /** 64 hex chars, no 0x */
  serviceId: string;
  workflowId: string;
  action: TriggerAction;
  /** answered to the component by host.get-evm-chain-config */
  chains: EvmChainConfig[];
}

export interface RunOperatorComponentReturnType {
  responses: WasmResponse[];
  /** host.log lines (`level: message`) and stdout/stderr lines (`stdout: …`) */
  logs: string[];
  /** wall clock of the whole call, load included */
  durationMs: number;
  /** what the run cost besides the component itself; for metrics and tests */
  debug: { coldLoad: boolean; transpiled: boolean; transpileMs?: number };
}

export type RunOperatorComponentErrorType = ExecutionError;

/**
 * Runs `service.workflows[workflowId].component` on `action`.
 * @throws ExecutionError: component-missing (unknown workflow, no digest, bytes not stored),
 *   instantiate, trap, out-of-time (the workflow's time_limit_seconds, default 30 s) or
 *   component-error (the component returned `err`; the message is the component's)
 */
export async function runOperatorComponent(
  env: Env,
  params: RunOperatorComponentParameters,
): Promise<RunOperatorComponentReturnType> {
  const started = Date.now();
  const { service, serviceId, workflowId, action } = params;
  const workflow = service.workflows[workflowId];
  if (!workflow) throw new ExecutionError("component-missing", `service has no workflow ${workflowId}`);
  const component = workflow.component;
  const digest = componentDigest(component.source);
  if (!digest || !/^[0-9a-f]{64}$/.test(digest)) {
    throw new ExecutionError("component-missing", `workflow ${workflowId} names no valid component digest`);
  }

  const call: GuestCall = {
    action: toWitTriggerAction(action),
    service: toWitService(service),
    serviceId,
    workflowId,
    config: toConfigEntries(component.config),
    environment: grantedEnvironment(env, component.env_keys),
    evmChains: params.chains.map((c) => [c.key, toWitEvmChainConfig(c)]),
    defaultEventIdSalt: encodeTriggerDataSalt(action.data),
  };

  const limitSeconds = component.time_limit_seconds ?? DEFAULT_TIME_LIMIT_SECONDS;
  const limitMs = Number(limitSeconds) * 1000;
  const { guest, report, markWarm } = await loadComponent(env, digest, { cpuLimitMs: limitMs });

  let outcome: GuestOutcome;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    outcome = await Promise.race([
      guest.run(call) as Promise<GuestOutcome>,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new ExecutionError("out-of-time", `component ran longer than ${limitSeconds} s`, { digest })),
          limitMs,
        );
      }),
    ]);
  } catch (e) {
    if (e instanceof ExecutionError) throw e;
    if (report.error) throw report.error;
    throw new ExecutionError("instantiate", `component worker failed: ${e instanceof Error ? e.message : String(e)}`, {
      digest,
      cause: e,
    });
  } finally {
    clearTimeout(timer);
  }

  markWarm();
  if (!outcome.ok) throw new ExecutionError(outcome.kind, outcome.message, { digest });
  let responses: WasmResponse[];
  try {
    responses = fromWitWasmResponses(outcome.responses);
  } catch (e) {
    throw new ExecutionError("trap", e instanceof Error ? e.message : String(e), { digest });
  }
  return {
    responses,
    logs: outcome.logs,
    durationMs: Date.now() - started,
    debug: { coldLoad: report.loaded, transpiled: report.transpiled, transpileMs: report.transpileMs },
  };
}

function componentDigest(source: Service["workflows"][string]["component"]["source"]): string | undefined {
  if ("digest" in source) return source.digest;
  if ("download" in source) return source.download.digest;
  return source.registry.digest;
}

/** The WAVS_ENV_* secrets this component was granted by name; nothing else from env. */
function grantedEnvironment(env: Env, keys: string[]): [string, string][] {
  const vars = env as unknown as Record<string, unknown>;
  return keys
    .filter((k) => k.startsWith("WAVS_ENV_") && typeof vars[k] === "string")
    .map((k) => [k, vars[k] as string]);
}
