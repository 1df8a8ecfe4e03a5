/**
 * Main module of the dynamic worker that runs one component (one isolate per component digest and
 * runtime version). It is bundled by scripts/build-runtime.ts into a string and handed to the
 * Worker Loader next to the component's transpiled JS and core wasm modules.
 *
 * It holds no bindings and no secrets: everything a call may see arrives with it.
 *
 * Instances are reused (WAVS instantiates per call; starting QuickJS or a big Rust component again
 * costs milliseconds, the call itself tens of microseconds). A component must never see another
 * service's data, so an instance belongs to one (service, workflow, environment): two services
 * running the same digest, or two workflows of one service, each get their own. Within it a
 * component's globals survive from one run to the next, as do the environment and preopens that
 * wasi-libc reads once at start-up (hence the environment in the key). Any failed call (trap,
 * component error, refused instantiation) drops the instance, so the next call starts afresh and
 * a trap never poisons it. Calls on one instance are serialised by a promise chain: an instance
 * is not re-entrant, and under JSPI two runs would interleave.
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import { createCli } from "@bytecodealliance/preview2-shim/cli";
import * as clocks from "@bytecodealliance/preview2-shim/clocks";
import * as io from "@bytecodealliance/preview2-shim/io";
import * as random from "@bytecodealliance/preview2-shim/random";
import * as sockets from "@bytecodealliance/preview2-shim/sockets";
import * as http from "@bytecodealliance/preview2-shim/http";
import { instantiate } from "wavs-guest:component";
import coreModules from "wavs-guest:core-modules";
import componentInfo from "wavs-guest:component-info";
import { computeEventId } from "../../service/event-id";
import type { ComponentHostApi } from "../host/component-host";
import { createServiceDirectory, openServiceDirectory, type ServiceDirectory } from "./filesystem-imports";
import { createKeyValueImports } from "./keyvalue-imports";
import "./outbound-fetch";
import type { GuestCall, GuestOutcome, GuestStats, HostLogLevel, WitEvmChainConfig } from "./protocol";

const MAX_LOG_LINES = 500;
const MAX_LOG_LINE = 4096;

/** Live instances an isolate keeps; the least recently used idle one is dropped beyond this. */
const MAX_INSTANCES = 8;

/*
 * A component transpiled without JSPI (it imports nothing that waits, see async-mode.ts) cannot
 * wait either: the shim's `block` and `poll`
 * return a promise that the synchronous binding drops, and a guest that polls until ready (an
 * HTTP response, a sleep) would spin until workerd runs out of heap. Waiting on something that is
 * not ready traps instead, failing only that run.
 */
const NOT_READY =
  "the component waited on a wasi:io pollable that is not ready (an HTTP response or a timer); this component was transpiled without JSPI, so the wait was refused";
const pollableProto = io.poll.Pollable.prototype as { ready(): boolean; block(): unknown };
if (!componentInfo.jspi) {
  pollableProto.block = function block(this: { ready(): boolean }): void {
    if (!this.ready()) throw new Error(NOT_READY);
  };
}
const pollList = (list: { ready(): boolean }[]): Uint32Array => {
  if (list.length === 0) throw new Error("poll list must not be empty");
  const ready = list.flatMap((p, i) => (p.ready() ? [i] : []));
  if (ready.length === 0) throw new Error(NOT_READY);
  return new Uint32Array(ready);
};
const poll = componentInfo.jspi
  ? io.poll
  : { ...io.poll, poll: pollList, pollList, pollOne: (p: { block(): unknown }) => p.block() };

const HTTP_IMPORT = /^wasi:http\//;

/** What the current call's imports write to and answer from; swapped per call. */
interface CallContext {
  call: GuestCall;
  /** the node's host for this call (keyvalue of the call's service): an RPC stub that lives
   * only as long as the call */
  hostApi: ComponentHostApi;
  pushLog: (line: string) => void;
}

/** One (service, workflow, environment)'s instance and the chain its calls wait on. */
interface Slot {
  key: string;
  /** calls chained on this slot, settled or not */
  tail: Promise<unknown>;
  pending: number;
  instance?: { root: Record<string, unknown>; flush: () => void; directory: ServiceDirectory };
  /** read by the instance's imports; set only while a call runs */
  current?: CallContext;
  /** when the running call's caller gives up on it (epoch ms); unset between calls */
  deadline?: number;
}

const slots = new Map<string, Slot>();

export default class ComponentGuest extends WorkerEntrypoint {
  /** Calls one export on this workflow's instance, after the calls before it. Never throws:
   * failures come back as an outcome. */
  call(call: GuestCall, host: ComponentHostApi): Promise<GuestOutcome> {
    const slot = takeSlot(slotKey(call));
    slot.pending++;
    const next = slot.tail.then(() => runOnce(slot, call, host));
    slot.tail = next.finally(() => slot.pending--).catch(() => undefined);
    return next;
  }
}

function slotKey(call: GuestCall): string {
  return JSON.stringify([
    call.serviceId,
    call.workflowId,
    call.invocation.fn === "run" ? "operator" : "aggregator",
    call.environment,
    call.fileSystem,
  ]);
}

/** The slot for `key`, most recently used last; drops idle slots beyond MAX_INSTANCES. */
function takeSlot(key: string): Slot {
  let slot = slots.get(key);
  if (slot) slots.delete(key);
  // A run still going past its deadline (under JSPI, a wait that may never end) would hold up
  // every call behind it: those get a new slot and instance, and the old run finishes unobserved.
  if (slot?.deadline !== undefined && Date.now() >= slot.deadline) slot = undefined;
  slot ??= { key, tail: Promise.resolve(), pending: 0 };
  slots.set(key, slot);
  for (const [k, s] of slots) {
    if (slots.size <= MAX_INSTANCES) break;
    if (s.pending === 0 && s !== slot) slots.delete(k);
  }
  return slot;
}

async function runOnce(slot: Slot, call: GuestCall, hostApi: ComponentHostApi): Promise<GuestOutcome> {
  const logs: string[] = [];
  const pushLog = (line: string): void => {
    if (logs.length < MAX_LOG_LINES) logs.push(line.length > MAX_LOG_LINE ? `${line.slice(0, MAX_LOG_LINE)}…` : line);
  };
  const stats: GuestStats = { instantiated: false, instantiateMs: 0, runMs: 0 };

  // As WAVS, which leaves wasi:http out of the linker when no host is allowed.
  const httpImport = componentInfo.imports.find((name) => HTTP_IMPORT.test(name));
  if (httpImport && call.allowedHttpHosts.tag === "none") {
    return {
      ok: false,
      kind: "instantiate",
      message: `the component imports ${httpImport}, but its permissions allow no HTTP hosts (allowed_http_hosts: none)`,
      logs,
      stats,
    };
  }

  slot.current = { call, hostApi, pushLog };
  slot.deadline = call.deadline;
  try {
    if (!slot.instance) {
      const started = performance.now();
      const { imports, flush, directory } = createImports(slot, call.fileSystem);
      try {
        const root = (await instantiate((name: string) => {
          const module = coreModules[name];
          if (!module) throw new Error(`missing core module ${name}`);
          return module;
        }, imports)) as Record<string, unknown>;
        slot.instance = { root, flush, directory };
      } catch (e) {
        return { ok: false, kind: "instantiate", message: describe(e), logs, stats };
      }
      stats.instantiated = true;
      stats.instantiateMs = performance.now() - started;
    }
    const instance = slot.instance;
    let keepFiles: () => Promise<void>;
    try {
      keepFiles = await openServiceDirectory(instance.directory, hostApi);
    } catch (e) {
      return {
        ok: false,
        kind: "instantiate",
        message: `could not read the service's directory: ${describe(e)}`,
        logs,
        stats,
      };
    }
    let outcome = await invoke(instance, call, logs, stats);
    try {
      // as on a disk, what a run wrote stays even when the run then failed
      await keepFiles();
    } catch (e) {
      outcome = {
        ok: false,
        kind: "trap",
        message: `the run's file changes were not kept: ${describe(e)}`,
        logs,
        stats,
      };
    }
    // A failed call may have left the instance half-way through anything: never reuse it.
    if (!outcome.ok) slot.instance = undefined;
    return outcome;
  } finally {
    slot.current = undefined;
    slot.deadline = undefined;
  }
}

async function invoke(
  instance: NonNullable<Slot["instance"]>,
  call: GuestCall,
  logs: string[],
  stats: GuestStats,
): Promise<GuestOutcome> {
  const invocation = call.invocation;
  const exportName = EXPORT_NAMES[invocation.fn];
  const fn = instance.root[exportName];
  if (typeof fn !== "function") {
    return {
      ok: false,
      kind: "instantiate",
      message: `the component does not export \`${invocation.fn}\` (${invocation.fn === "run" ? "an operator" : "an aggregator"} component was expected)`,
      logs,
      stats,
    };
  }
  const started = performance.now();
  try {
    // under JSPI the export returns a promise
    const value = await (invocation.fn === "run"
      ? fn(invocation.action)
      : invocation.fn === "handle-submit-callback"
        ? fn(invocation.input, invocation.txResult)
        : fn(invocation.input));
    return { ok: true, value, logs, stats };
  } catch (e) {
    // jco throws the `err` of an exported result as the raw value (no error wrapping); a trap,
    // or an Error thrown by an import, surfaces as an Error.
    if (typeof e === "string") return { ok: false, kind: "component-error", message: e, logs, stats };
    return { ok: false, kind: "trap", message: describe(e), logs, stats };
  } finally {
    stats.runMs = performance.now() - started;
    // a line the component left unterminated belongs to this run's log
    instance.flush();
  }
}

/** jco's camelCase names of the exports. */
const EXPORT_NAMES = {
  run: "run",
  "process-input": "processInput",
  "handle-timer-callback": "handleTimerCallback",
  "handle-submit-callback": "handleSubmitCallback",
} as const;

/** Imports bound to a slot: each answers from, and logs to, the call running at the time. */
function createImports(
  slot: Slot,
  fileSystem: boolean,
): { imports: Record<string, unknown>; flush: () => void; directory: ServiceDirectory } {
  const now = (): CallContext => {
    if (!slot.current) throw new Error("the component called an import between runs");
    return slot.current;
  };
  const lines = (prefix: string) => {
    let pending = "";
    return {
      write(contents: Uint8Array): void {
        pending += new TextDecoder().decode(contents);
        const parts = pending.split("\n");
        pending = parts.pop() ?? "";
        for (const part of parts) now().pushLog(`${prefix}: ${part}`);
      },
      flush(): void {
        if (pending) now().pushLog(`${prefix}: ${pending}`);
        pending = "";
      },
    };
  };
  const stdout = lines("stdout");
  const stderr = lines("stderr");
  const cli = createCli({ stdout, stderr });
  const environment = {
    ...cli.environment,
    getEnvironment: (): [string, string][] => now().call.environment.map(([k, v]) => [k, v]),
  };
  // The instance outlives the call whose stub it was created with: delegate to the current one.
  const hostApi = new Proxy({} as ComponentHostApi, {
    get:
      (_target, method: keyof ComponentHostApi) =>
      (...args: unknown[]) =>
        (now().hostApi[method] as (...a: unknown[]) => unknown)(...args),
  });
  const directory = createServiceDirectory(fileSystem);
  const fs = directory.fs;
  // Per-call lookups, made once per call rather than per import call.
  let cached: { call: GuestCall; chains: Map<string, WitEvmChainConfig>; config: Map<string, string> } | undefined;
  const lookups = () => {
    const { call } = now();
    if (cached?.call !== call) cached = { call, chains: new Map(call.evmChains), config: new Map(call.config) };
    return cached;
  };

  const host = {
    getEvmChainConfig: (key: string) => lookups().chains.get(key),
    getCosmosChainConfig: (_key: string) => undefined,
    configVar: (key: string) => lookups().config.get(key),
    log: (level: HostLogLevel, message: string) => now().pushLog(`${level.tag}: ${message}`),
    getService: () => ({ service: now().call.service, workflowId: now().call.workflowId }),
    getWorkflow: () => {
      const { call } = now();
      return {
        workflow: call.service.workflows.find(([id]) => id === call.workflowId)?.[1],
        workflowId: call.workflowId,
      };
    },
    // operator world: get-event-id(salt: option<list<u8>>); aggregator world: get-event-id()
    getEventId: (salt?: Uint8Array) => {
      const { call } = now();
      return "fixed" in call.eventId
        ? call.eventId.fixed
        : computeEventId(call.serviceId, call.workflowId, salt ?? call.eventId.defaultSalt);
    },
  };

  const flush = (): void => {
    stdout.flush();
    stderr.flush();
  };
  const imports = {
    "wasi:cli/environment": environment,
    "wasi:cli/exit": cli.exit,
    "wasi:cli/stdin": cli.stdin,
    "wasi:cli/stdout": cli.stdout,
    "wasi:cli/stderr": cli.stderr,
    "wasi:cli/terminal-input": cli.terminalInput,
    "wasi:cli/terminal-output": cli.terminalOutput,
    "wasi:cli/terminal-stdin": cli.terminalStdin,
    "wasi:cli/terminal-stdout": cli.terminalStdout,
    "wasi:cli/terminal-stderr": cli.terminalStderr,
    "wasi:clocks/monotonic-clock": clocks.monotonicClock,
    "wasi:clocks/wall-clock": clocks.wallClock,
    "wasi:filesystem/types": fs.types,
    "wasi:filesystem/preopens": fs.preopens,
    "wasi:io/error": io.error,
    "wasi:io/poll": poll,
    "wasi:io/streams": io.streams,
    "wasi:random/random": random.random,
    "wasi:random/insecure": random.insecure,
    "wasi:random/insecure-seed": random.insecureSeed,
    "wasi:sockets/network": sockets.network,
    "wasi:sockets/instance-network": sockets.instanceNetwork,
    "wasi:sockets/ip-name-lookup": sockets.ipNameLookup,
    "wasi:sockets/tcp": sockets.tcp,
    "wasi:sockets/tcp-create-socket": sockets.tcpCreateSocket,
    "wasi:sockets/udp": sockets.udp,
    "wasi:sockets/udp-create-socket": sockets.udpCreateSocket,
    "wasi:http/types": http.types,
    "wasi:http/outgoing-handler": http.outgoingHandler,
    ...createKeyValueImports(hostApi),
    host,
  };
  return { imports, flush, directory };
}

/** A message without a stack: stacks may carry paths and are no use to a component author. */
function describe(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}
