/**
 * The Worker behind `wavs-edge exec`: runs one component once through the node's own runtime
 * (storeComponent, the in-Worker transpiler, the Worker Loader, the same host imports) inside
 * local workerd, started by cli/commands/exec.ts. Not part of the deployed node.
 */
import { bytesToHex, hexToBytes, type Hex } from "viem";
import type { Service, TriggerData } from "../../src/service/types";
import { encodeTriggerDataSalt } from "../../src/service/event-id";
import { storeComponent } from "../../src/execute/component-store";
import { ExecutionError } from "../../src/execute/errors";
import type { GuestCall, GuestOutcome } from "../../src/execute/guest/protocol";
import { ComponentHost } from "../../src/execute/host/component-host";
import { loadComponent, prepareComponent } from "../../src/execute/load-component";
import { toWitComponent, toWitService, toWitTriggerAction } from "../../src/execute/wit-values";
import { runAggregatorComponent, runOperatorComponent } from "../../src/execute/run-component";
import type { BenchRequest, BenchResponse, ExecRequest, ExecResponse } from "./exec-protocol";

export { ServiceKeyValue } from "../../src/execute/keyvalue/service-key-value";
export { OutboundGate } from "../../src/execute/outbound-gate";

const SERVICE_ID = "0".repeat(64);
const CHAIN = "evm:31337";

function triggerData(data: ExecRequest["data"]): TriggerData {
  if ("raw" in data) return { Raw: hexToBytes(data.raw) };
  if ("cron" in data) return { Cron: { trigger_time: BigInt(data.cron) } };
  if ("block_interval" in data) return { BlockInterval: { chain: CHAIN, block_height: BigInt(data.block_interval) } };
  return {
    EvmContractEvent: {
      chain: CHAIN,
      contract_address: `0x${"00".repeat(20)}`,
      log_data: { topics: [], data: data.evm_event },
      tx_hash: `0x${"00".repeat(32)}`,
      block_number: 1n,
      log_index: 0n,
      block_hash: `0x${"00".repeat(32)}`,
      block_timestamp: null,
      tx_index: 0n,
    },
  };
}

async function exec(env: Env, req: ExecRequest): Promise<ExecResponse> {
  const { digest } = await storeComponent(env, hexToBytes(req.component));
  const component = {
    source: { digest },
    // as `wavs-cli exec`: every permission unless narrowed
    permissions: {
      allowed_http_hosts: req.permissions?.allowedHttpHosts ?? ("all" as const),
      file_system: req.permissions?.fileSystem ?? true,
      raw_sockets: false,
      dns_resolution: false,
    },
    fuel_limit: null,
    time_limit_seconds: req.timeLimitSeconds === null ? null : BigInt(req.timeLimitSeconds),
    config: req.config,
    env_keys: req.envKeys,
  };
  const service: Service = {
    name: "exec",
    status: "active",
    manager: { evm: { chain: CHAIN, address: `0x${"00".repeat(20)}` } },
    workflows: { exec: { trigger: "manual", component, submit: "none" } },
  };
  const action = {
    config: { service_id: SERVICE_ID, workflow_id: "exec", trigger: "manual" as const },
    data: triggerData(req.data),
  };
  if (req.world === "operator") {
    const r = await runOperatorComponent(env, {
      service,
      serviceId: SERVICE_ID,
      workflowId: "exec",
      action,
      chains: [],
    });
    return {
      ok: true,
      digest,
      responses: r.responses.map((x) => ({
        payload: bytesToHex(x.payload),
        ordering: x.ordering === null ? null : x.ordering.toString(),
        event_id_salt: x.event_id_salt === null ? null : bytesToHex(x.event_id_salt),
      })),
      logs: r.logs,
      durationMs: r.durationMs,
      transpileMs: r.debug.transpileMs,
    };
  }
  const r = await runAggregatorComponent(env, {
    service,
    serviceId: SERVICE_ID,
    workflowId: "exec",
    component,
    call: {
      fn: "process-input",
      input: {
        action,
        response: {
          payload: action.data && "Raw" in action.data ? action.data.Raw : new Uint8Array(),
          ordering: null,
          event_id_salt: null,
        },
        eventId: `0x${"00".repeat(20)}`,
      },
    },
    chains: [],
  });
  return {
    ok: true,
    digest,
    actions: JSON.parse(JSON.stringify(r.actions, (_k, v) => (typeof v === "bigint" ? v.toString() : v))),
    logs: r.logs,
    durationMs: r.durationMs,
    transpileMs: r.debug.transpileMs,
  };
}

async function bench(env: Env, req: BenchRequest): Promise<BenchResponse> {
  const bytes = hexToBytes(req.component);
  const run = async (digest: string) => {
    const service: Service = {
      name: "bench",
      status: "active",
      manager: { evm: { chain: CHAIN, address: `0x${"00".repeat(20)}` } },
      workflows: {
        bench: {
          trigger: "manual",
          component: {
            source: { digest },
            permissions: { allowed_http_hosts: "none", file_system: false, raw_sockets: false, dns_resolution: false },
            fuel_limit: null,
            time_limit_seconds: null,
            config: {},
            env_keys: [],
          },
          submit: "none",
        },
      },
    };
    const action = {
      config: { service_id: SERVICE_ID, workflow_id: "bench", trigger: "manual" as const },
      data: { Raw: hexToBytes(req.input) },
    };
    return runOperatorComponent(env, { service, serviceId: SERVICE_ID, workflowId: "bench", action, chains: [] });
  };
  // Cold: upload (validate, digest, R2) → transpile → new isolate → first result.
  const coldStarted = Date.now();
  const { digest } = await storeComponent(env, bytes);
  const uploadMs = Date.now() - coldStarted;
  const first = await run(digest);
  const coldMs = Date.now() - coldStarted;

  // Cold with artifacts ready: the same bytes plus an empty custom section are another digest,
  // hence another isolate.
  const { digest: twin } = await storeComponent(env, withCustomSection(bytes, "wavs-edge-bench"));
  await prepareComponent(env, twin);
  const preparedStarted = Date.now();
  const prepared = await run(twin);
  const preparedColdMs = Date.now() - preparedStarted;

  // Warm, one at a time. Workers' clocks tick in whole milliseconds, so runs are timed in batches.
  // Beside each batch through the runtime, a batch of the same call with parts of the path left
  // out (so what a part costs is a difference of medians); the three alternate, so that drift
  // (JIT tier-up, other load on the machine) affects them alike.
  const guestCall = benchGuestCall(digest, req.input);
  const host = new ComponentHost(env, SERVICE_ID);
  const { guest } = await loadComponent(env, digest, { cpuLimitMs: 30_000 });
  let guestRunTotalMs = 0;
  let instantiations = 0;
  const checked = async (outcome: Promise<GuestOutcome>): Promise<void> => {
    const o = await outcome;
    if (!o.ok) throw new Error(`bench call failed: ${o.message}`);
  };
  const variants: Record<string, () => Promise<unknown>> = {
    runtime: async () => {
      const r = await run(digest);
      guestRunTotalMs += r.debug.stagesMs.run ?? 0;
      if (r.debug.instantiated) instantiations++;
    },
    // loader stub, entrypoint and host made per call, as runtime does; a prebuilt GuestCall
    loadAndCall: async () =>
      checked(
        (await loadComponent(env, digest, { cpuLimitMs: 30_000 })).guest.call(
          guestCall,
          new ComponentHost(env, SERVICE_ID),
        ),
      ),
    // one entrypoint stub and one host for every call: the RPC and the guest alone
    rpcAndGuest: () => checked(guest.call(guestCall, host) as Promise<GuestOutcome>),
  };
  for (let i = 0; i < Math.min(100, req.iterations); i++) for (const fn of Object.values(variants)) await fn();
  guestRunTotalMs = 0;
  instantiations = 0;
  const means: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  let warmTotalMs = 0;
  for (let done = 0; done < req.iterations; done += req.batch) {
    for (const [name, fn] of Object.entries(variants)) {
      const t = Date.now();
      for (let i = 0; i < req.batch; i++) await fn();
      const elapsed = Date.now() - t;
      means[name]!.push(elapsed / req.batch);
      if (name === "runtime") warmTotalMs += elapsed;
    }
  }
  const { runtime: batchMeansMs, ...breakdownBatchMeansMs } = means;

  // Concurrent: `concurrency` runs in flight at once.
  const concurrentStarted = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: req.concurrency }, async () => {
      while (next++ < req.iterations) await run(digest);
    }),
  );
  const concurrentMs = Date.now() - concurrentStarted;
  return {
    size: bytes.length,
    digest,
    coldMs,
    uploadMs,
    transpileMs: first.debug.transpileMs ?? null,
    coldStagesMs: first.debug.stagesMs,
    preparedColdMs,
    preparedStagesMs: prepared.debug.stagesMs,
    batchMeansMs: batchMeansMs!,
    breakdownBatchMeansMs,
    warmTotalMs,
    guestRunTotalMs,
    instantiations,
    concurrentMs,
    payload: new TextDecoder().decode(first.responses[0]?.payload ?? new Uint8Array()),
  };
}

/** The GuestCall runOperatorComponent makes for the bench's service, built once. */
function benchGuestCall(digest: string, input: Hex): GuestCall {
  const component = {
    source: { digest },
    permissions: { allowed_http_hosts: "none" as const, file_system: false, raw_sockets: false, dns_resolution: false },
    fuel_limit: null,
    time_limit_seconds: null,
    config: {},
    env_keys: [],
  };
  const service: Service = {
    name: "bench",
    status: "active",
    manager: { evm: { chain: CHAIN, address: `0x${"00".repeat(20)}` } },
    workflows: { bench: { trigger: "manual", component, submit: "none" } },
  };
  return {
    invocation: {
      fn: "run",
      action: toWitTriggerAction({
        config: { service_id: SERVICE_ID, workflow_id: "bench", trigger: "manual" },
        data: { Raw: hexToBytes(input) },
      }),
    },
    service: toWitService(service),
    serviceId: SERVICE_ID,
    workflowId: "bench",
    config: [],
    environment: [],
    evmChains: [],
    eventId: { defaultSalt: encodeTriggerDataSalt({ Raw: hexToBytes(input) }) },
    // the bench's calls never outlive it
    deadline: Number.MAX_SAFE_INTEGER,
    fileSystem: false,
    allowedHttpHosts: toWitComponent(component).permissions.allowedHttpHosts,
  };
}

/** `bytes` with an empty custom section appended (a valid component with another digest). */
function withCustomSection(bytes: Uint8Array, name: string): Uint8Array {
  const nameBytes = new TextEncoder().encode(name);
  // section id 0, size (LEB128, < 128 here), name length, name
  const section = new Uint8Array([0, nameBytes.length + 1, nameBytes.length, ...nameBytes]);
  const out = new Uint8Array(bytes.length + section.length);
  out.set(bytes);
  out.set(section, bytes.length);
  return out;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const body = (await request.json()) as ExecRequest | BenchRequest;
    if ("bench" in body) return Response.json(await bench(env, body));
    const req = body;
    try {
      return Response.json(await exec(env, req));
    } catch (e) {
      if (e instanceof ExecutionError)
        return Response.json({ ok: false, kind: e.kind, message: e.message, logs: e.logs });
      return Response.json({
        ok: false,
        kind: "invalid",
        message: e instanceof Error ? e.message : String(e),
        logs: [],
      });
    }
  },
} satisfies ExportedHandler<Env>;
