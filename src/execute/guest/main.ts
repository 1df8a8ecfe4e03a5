/**
 * Main module of the dynamic worker that runs one component (one isolate per component digest and
 * runtime version). It is bundled by scripts/build-runtime.ts into a string and handed to the
 * Worker Loader next to the component's transpiled JS and core wasm modules.
 *
 * It holds no bindings and no secrets: everything a call may see arrives with it. Each
 * run gets a fresh component instance (as in WAVS, where every execution has its own store), and
 * runs are serialised so that the shim's shared state is never used by two runs at once.
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import { createCli } from "@bytecodealliance/preview2-shim/cli";
import * as clocks from "@bytecodealliance/preview2-shim/clocks";
import * as io from "@bytecodealliance/preview2-shim/io";
import * as random from "@bytecodealliance/preview2-shim/random";
import * as filesystem from "@bytecodealliance/preview2-shim/filesystem";
import * as sockets from "@bytecodealliance/preview2-shim/sockets";
import * as http from "@bytecodealliance/preview2-shim/http";
import { instantiate } from "wavs-guest:component";
import coreModules from "wavs-guest:core-modules";
import componentInfo from "wavs-guest:component-info";
import { computeEventId } from "../../sign/event-id";
import type { ComponentHostApi } from "../host/component-host";
import { createKeyValueImports } from "./keyvalue-imports";
import type { GuestCall, GuestOutcome, HostLogLevel, WitWasmResponse } from "./protocol";

const MAX_LOG_LINES = 500;
const MAX_LOG_LINE = 4096;

let queue: Promise<unknown> = Promise.resolve();

/*
 * A component transpiled without JSPI (it imports nothing that waits, see async-mode.ts) cannot
 * wait either: the shim's `block` and `poll`
 * return a promise that the synchronous binding drops, and a guest that polls until ready (an
 * HTTP response, a sleep) would spin until workerd runs out of heap. Waiting on something that is
 * not ready traps instead, failing only that run.
 */
const NOT_READY = "the component waited on a wasi:io pollable that is not ready (an HTTP response or a timer); this component was transpiled without JSPI, so the wait was refused";
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
const poll = componentInfo.jspi ? io.poll : { ...io.poll, poll: pollList, pollList, pollOne: (p: { block(): unknown }) => p.block() };

const HTTP_IMPORT = /^wasi:http\//;

export default class ComponentGuest extends WorkerEntrypoint {
  /** Calls one export of a fresh component instance. Never throws: failures come back as an outcome. */
  call(call: GuestCall, host: ComponentHostApi): Promise<GuestOutcome> {
    const next = queue.then(() => runOnce(call, host));
    queue = next.catch(() => undefined);
    return next;
  }
}

async function runOnce(call: GuestCall, hostApi: ComponentHostApi): Promise<GuestOutcome> {
  const logs: string[] = [];
  const pushLog = (line: string): void => {
    if (logs.length < MAX_LOG_LINES) logs.push(line.length > MAX_LOG_LINE ? `${line.slice(0, MAX_LOG_LINE)}…` : line);
  };

  // As WAVS, which leaves wasi:http out of the linker when no host is allowed.
  const httpImport = componentInfo.imports.find((name) => HTTP_IMPORT.test(name));
  if (httpImport && call.allowedHttpHosts.tag === "none") {
    return {
      ok: false,
      kind: "instantiate",
      message: `the component imports ${httpImport}, but its permissions allow no HTTP hosts (allowed_http_hosts: none)`,
      logs,
    };
  }

  let root: Record<string, unknown>;
  try {
    root = (await instantiate((name: string) => {
      const module = coreModules[name];
      if (!module) throw new Error(`missing core module ${name}`);
      return module;
    }, createImports(call, hostApi, pushLog))) as Record<string, unknown>;
  } catch (e) {
    return { ok: false, kind: "instantiate", message: describe(e), logs };
  }

  const invocation = call.invocation;
  const exportName = EXPORT_NAMES[invocation.fn];
  const fn = root[exportName];
  if (typeof fn !== "function") {
    return {
      ok: false,
      kind: "instantiate",
      message: `the component does not export \`${invocation.fn}\` (${invocation.fn === "run" ? "an operator" : "an aggregator"} component was expected)`,
      logs,
    };
  }
  try {
    // under JSPI the export returns a promise
    const value = await (
      invocation.fn === "run"
        ? fn(invocation.action)
        : invocation.fn === "handle-submit-callback"
          ? fn(invocation.input, invocation.txResult)
          : fn(invocation.input)
    );
    return { ok: true, value, logs };
  } catch (e) {
    // jco throws the `err` of an exported result as the raw value (no error wrapping); a trap,
    // or an Error thrown by an import, surfaces as an Error.
    if (typeof e === "string") return { ok: false, kind: "component-error", message: e, logs };
    return { ok: false, kind: "trap", message: describe(e), logs };
  }
}

/** jco's camelCase names of the exports. */
const EXPORT_NAMES = {
  run: "run",
  "process-input": "processInput",
  "handle-timer-callback": "handleTimerCallback",
  "handle-submit-callback": "handleSubmitCallback",
} as const;

function createImports(call: GuestCall, hostApi: ComponentHostApi, pushLog: (line: string) => void): Record<string, unknown> {
  const lines = (prefix: string) => {
    let pending = "";
    return {
      write(contents: Uint8Array): void {
        pending += new TextDecoder().decode(contents);
        const parts = pending.split("\n");
        pending = parts.pop() ?? "";
        for (const part of parts) pushLog(`${prefix}: ${part}`);
      },
      flush(): void {
        if (pending) pushLog(`${prefix}: ${pending}`);
        pending = "";
      },
    };
  };
  const cli = createCli({ environment: Object.fromEntries(call.environment), stdout: lines("stdout"), stderr: lines("stderr") });
  const fs = filesystem.createFilesystem({ adapter: new filesystem.InMemoryFilesystemAdapter(), preopens: {} });
  const chains = new Map(call.evmChains);
  const config = new Map(call.config);
  const workflow = call.service.workflows.find(([id]) => id === call.workflowId)?.[1];

  const host = {
    getEvmChainConfig: (key: string) => chains.get(key),
    getCosmosChainConfig: (_key: string) => undefined,
    configVar: (key: string) => config.get(key),
    log: (level: HostLogLevel, message: string) => pushLog(`${level.tag}: ${message}`),
    getService: () => ({ service: call.service, workflowId: call.workflowId }),
    getWorkflow: () => ({ workflow, workflowId: call.workflowId }),
    // operator world: get-event-id(salt: option<list<u8>>); aggregator world: get-event-id()
    getEventId: (salt?: Uint8Array) =>
      "fixed" in call.eventId
        ? call.eventId.fixed
        : computeEventId(call.serviceId, call.workflowId, salt ?? call.eventId.defaultSalt),
  };

  return {
    "wasi:cli/environment": cli.environment,
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
}

/** A message without a stack: stacks may carry paths and are no use to a component author. */
function describe(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}
