/**
 * The bare run of an operator component in plain Node, for scripts/bench-exec.ts: the component
 * transpiled by jco with the node's options (`--instantiation async`, no run-time wasm compile),
 * instantiated once with preview2-shim's Node build and a stub `host`, and its `run` called
 * directly in a loop, timed with performance.now(). No runtime, no isolate, no RPC: the floor the
 * node's runtime is compared with.
 *
 * QuickJS components use extended-const, which Node 20's V8 ships behind a flag, so this runs as
 * `node --experimental-wasm-extended-const --import tsx scripts/lib/bare-run.ts FILE INPUT_HEX N`
 * and prints one JSON object: {instantiateMs, firstRunMs, samplesMs: number[], payload}.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { transpileBytes } from "@bytecodealliance/jco-transpile";
import * as cli from "@bytecodealliance/preview2-shim/cli";
import * as clocks from "@bytecodealliance/preview2-shim/clocks";
import * as filesystem from "@bytecodealliance/preview2-shim/filesystem";
import * as io from "@bytecodealliance/preview2-shim/io";
import * as random from "@bytecodealliance/preview2-shim/random";

// The project's types are Workers' (no WebAssembly.compile there); this file runs in Node.
const compileModule = (WebAssembly as unknown as { compile(bytes: Uint8Array): Promise<WebAssembly.Module> }).compile;

const [file, inputHex, count] = process.argv.slice(2);
if (!file || !inputHex || !count) throw new Error("usage: bare-run.ts FILE INPUT_HEX ITERATIONS");

const dir = await mkdtemp(join(tmpdir(), "wavs-edge-bare-"));
try {
  const out = await transpileBytes(new Uint8Array(await readFile(file)), {
    name: "component",
    instantiation: "async",
    base64Cutoff: 0,
    noComponentErrorWrapping: true,
  });
  for (const [name, bytes] of Object.entries(out.files)) {
    if (/^[^/]+\.(js|wasm)$/.test(name)) await writeFile(join(dir, name), bytes);
  }
  const { instantiate } = (await import(pathToFileURL(join(dir, "component.js")).href)) as {
    instantiate: (
      get: (name: string) => Promise<WebAssembly.Module>,
      imports: Record<string, unknown>,
    ) => Promise<{ run: (action: unknown) => unknown }>;
  };

  const logs: string[] = [];
  const host = {
    getEvmChainConfig: () => undefined,
    getCosmosChainConfig: () => undefined,
    configVar: () => undefined,
    log: (level: { tag: string }, message: string) => void logs.push(`${level.tag}: ${message}`),
    getService: () => {
      throw new Error("bare run: no service");
    },
    getWorkflow: () => {
      throw new Error("bare run: no workflow");
    },
    getEventId: () => new Uint8Array(20),
  };
  const imports = {
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
    "wasi:filesystem/types": filesystem.types,
    "wasi:filesystem/preopens": filesystem.preopens,
    "wasi:io/error": io.error,
    "wasi:io/poll": io.poll,
    "wasi:io/streams": io.streams,
    "wasi:random/random": random.random,
    "wasi:random/insecure": random.insecure,
    "wasi:random/insecure-seed": random.insecureSeed,
    host,
  };

  const action = {
    config: { serviceId: "0".repeat(64), workflowId: "bench", trigger: { tag: "manual" } },
    data: { tag: "raw", val: new Uint8Array(Buffer.from(inputHex.replace(/^0x/, ""), "hex")) },
  };
  const started = performance.now();
  const root = await instantiate(async (name) => compileModule(await readFile(join(dir, name))), imports);
  const instantiateMs = performance.now() - started;
  const firstStarted = performance.now();
  const first = root.run(action) as { payload: Uint8Array }[];
  const firstRunMs = performance.now() - firstStarted;
  const samplesMs: number[] = [];
  for (let i = 0; i < Number(count); i++) {
    const t = performance.now();
    root.run(action);
    samplesMs.push(performance.now() - t);
  }
  process.stdout.write(
    `${JSON.stringify({ instantiateMs, firstRunMs, samplesMs, payload: Buffer.from(first[0]!.payload).toString("utf8") })}\n`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
