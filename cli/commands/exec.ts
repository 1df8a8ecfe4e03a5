/**
 * `wavs-edge exec` and `wavs-edge exec-aggregator`: run a component once, locally, through the
 * node's own runtime inside workerd (cli/exec-worker/exec-worker.ts started with wrangler's
 * programmatic API, with the Worker Loader), not through a separate Node path.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { ExecRequest, ExecResponse } from "../exec-worker/exec-protocol";
import { BuildError, ensureBuilt } from "../../scripts/lib/cached-build";
import type { AllowedHttpHosts } from "../../src/service/types";
import { onShutdown } from "../lifecycle";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** How long local workerd may take to start the exec Worker (seconds on a busy machine). */
const READY_TIMEOUT_MS = 120_000;

export const EXEC_HELP = `Usage: wavs-edge exec --component FILE --input STR|0xHEX|@FILE [flags]
       wavs-edge exec-aggregator --component FILE --input STR|0xHEX|@FILE [flags]

Runs a component once through the node's runtime in local workerd, with every permission unless
narrowed by the permission flags.
  --config k=v          component config (repeatable)
  --env NAME=VALUE      a WAVS_ENV_* variable granted to the component (repeatable)
  --trigger raw|cron|block-interval|evm-event
                        how --input is delivered (default raw; cron and block-interval take a number,
                        evm-event takes 0x log data)
  --time-limit SECONDS  time_limit_seconds (default 30)
  --allowed-http-hosts none|all|HOST[,HOST…]
                        allowed_http_hosts (default all); a HOST may carry a port (host:8080)
  --file-system true|false
                        file_system: a directory kept for this run (default true)
  --json                one JSON object on stdout`;

type Flags = { single: Map<string, string | true>; repeated: Map<string, string[]> };

function parse(argv: string[]): Flags {
  const single = new Map<string, string | true>();
  const repeated = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("--")) throw new UsageError(`unexpected argument ${arg}`);
    const eq = arg.indexOf("=");
    const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    let value: string | true = true;
    if (eq > 0) value = arg.slice(eq + 1);
    else if (i + 1 < argv.length && !argv[i + 1]!.startsWith("--")) value = argv[++i]!;
    if (name === "config" || name === "env") {
      if (value === true) throw new UsageError(`--${name} needs a value`);
      repeated.set(name, [...(repeated.get(name) ?? []), value]);
    } else single.set(name, value);
  }
  return { single, repeated };
}

class UsageError extends Error {}

function pairs(list: string[], flag: string): [string, string][] {
  return list.map((item) => {
    const eq = item.indexOf("=");
    if (eq <= 0) throw new UsageError(`--${flag} ${item}: expected NAME=VALUE`);
    return [item.slice(0, eq), item.slice(eq + 1)];
  });
}

async function readInput(input: string): Promise<`0x${string}`> {
  if (input.startsWith("@")) return `0x${(await readFile(input.slice(1))).toString("hex")}`;
  if (/^0x([0-9a-fA-F]{2})*$/.test(input)) return input.toLowerCase() as `0x${string}`;
  return `0x${Buffer.from(input, "utf8").toString("hex")}`;
}

async function buildRequest(world: ExecRequest["world"], flags: Flags): Promise<ExecRequest> {
  const file = flags.single.get("component");
  const input = flags.single.get("input");
  if (typeof file !== "string") throw new UsageError("--component FILE is required");
  if (typeof input !== "string") throw new UsageError("--input STR|0xHEX|@FILE is required");
  const trigger = flags.single.get("trigger") ?? "raw";
  const hex = await readInput(input);
  const text = Buffer.from(hex.slice(2), "hex").toString("utf8");
  let data: ExecRequest["data"];
  if (trigger === "raw") data = { raw: hex };
  else if (trigger === "evm-event") data = { evm_event: hex };
  else if (trigger === "cron" || trigger === "block-interval") {
    if (!/^\d+$/.test(text)) throw new UsageError(`--trigger ${trigger} takes a number as --input`);
    data = trigger === "cron" ? { cron: text } : { block_interval: text };
  } else throw new UsageError(`--trigger must be raw, cron, block-interval or evm-event`);
  const env = pairs(flags.repeated.get("env") ?? [], "env");
  for (const [name] of env)
    if (!name.startsWith("WAVS_ENV_")) throw new UsageError(`--env ${name}: names must start with WAVS_ENV_`);
  const limit = flags.single.get("time-limit");
  if (limit !== undefined && (typeof limit !== "string" || !/^\d+$/.test(limit)))
    throw new UsageError("--time-limit takes whole seconds");
  return {
    world,
    permissions: {
      allowedHttpHosts: parseAllowedHttpHosts(flags.single.get("allowed-http-hosts")),
      fileSystem: parseFileSystem(flags.single.get("file-system")),
    },
    component: `0x${(await readFile(resolve(file))).toString("hex")}`,
    data,
    config: Object.fromEntries(pairs(flags.repeated.get("config") ?? [], "config")),
    envKeys: env.map(([name]) => name),
    timeLimitSeconds: limit === undefined ? null : Number(limit),
  };
}

/** `--allowed-http-hosts`: none, all, or a comma-separated list of hosts (each `name` or `name:port`). */
function parseAllowedHttpHosts(value: string | true | undefined): AllowedHttpHosts {
  if (value === undefined) return "all";
  if (value === true) throw new UsageError("--allowed-http-hosts needs none, all or HOST[,HOST…]");
  if (value === "none" || value === "all") return value;
  const hosts = value
    .split(",")
    .map((h) => h.trim())
    .filter((h) => h !== "");
  for (const host of hosts) {
    if (!/^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:]+\](:\d{1,5})?$/.test(host)) {
      throw new UsageError(`--allowed-http-hosts: ${JSON.stringify(host)} is not a host or host:port`);
    }
  }
  if (hosts.length === 0) throw new UsageError("--allowed-http-hosts needs none, all or HOST[,HOST…]");
  return { only: hosts };
}

/** `--file-system`: true (default) or false; the bare flag means true. */
function parseFileSystem(value: string | true | undefined): boolean {
  if (value === undefined || value === true || value === "true") return true;
  if (value === "false") return false;
  throw new UsageError("--file-system takes true or false");
}

/** Starts the exec Worker in workerd, sends one request, stops it. */
async function runInWorkerd(request: ExecRequest, env: Record<string, string>): Promise<ExecResponse> {
  return withExecWorker(env, (send) => send(request) as Promise<ExecResponse>);
}

/**
 * Starts the exec Worker (cli/exec-worker/exec-worker.ts) in local workerd with `env` as its vars,
 * gives `fn` a function that POSTs a JSON body to it and reads the JSON answer, and stops it.
 */
export async function withExecWorker<T>(
  env: Record<string, string>,
  fn: (send: (body: unknown) => Promise<unknown>) => Promise<T>,
): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "wavs-edge-exec-"));
  const config = join(dir, "wrangler.json");
  await writeFile(
    config,
    JSON.stringify({
      name: "wavs-edge-exec",
      main: join(ROOT, "cli/exec-worker/exec-worker.ts"),
      compatibility_date: "2026-04-01",
      compatibility_flags: ["nodejs_compat"],
      r2_buckets: [{ binding: "COMPONENTS", bucket_name: "exec" }],
      worker_loaders: [{ binding: "LOADER" }],
      // wasi:keyvalue, as on the node (state lives in the temporary directory, gone after the run)
      durable_objects: { bindings: [{ name: "SERVICE_KEY_VALUE", class_name: "ServiceKeyValue" }] },
      migrations: [{ tag: "v1", new_sqlite_classes: ["ServiceKeyValue"] }],
      // --env names are granted to the run's service, as SERVICE_ENV_GRANTS does on a node.
      vars: {
        ...env,
        SERVICE_ENV_GRANTS: JSON.stringify({ "*": Object.keys(env).filter((k) => k.startsWith("WAVS_ENV_")) }),
      },
    }),
  );
  process.env.WRANGLER_SEND_METRICS = "false";
  process.env.CLOUDFLARE_CF_FETCH_ENABLED = "false";
  process.env.WRANGLER_LOG = process.env.WRANGLER_LOG ?? "error";
  const { unstable_startWorker } = await import("wrangler");
  const worker = await unstable_startWorker({
    config,
    dev: {
      server: { hostname: "127.0.0.1", port: 0 },
      inspector: false,
      persist: join(dir, "state"),
      watch: false,
      logLevel: "error",
    },
  });
  const offShutdown = onShutdown(async () => {
    await worker.dispose();
    await rm(dir, { recursive: true, force: true });
  });
  try {
    // A Worker that fails to bundle never becomes ready: give up rather than wait forever.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      worker.ready,
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`the exec Worker did not start within ${READY_TIMEOUT_MS / 1000} s`)),
          READY_TIMEOUT_MS,
        );
      }),
    ]).finally(() => clearTimeout(timer));
    return await fn(async (body) => {
      const res = await worker.fetch("http://exec/", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      return res.json();
    });
  } finally {
    offShutdown();
    await worker.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}

function printHuman(result: ExecResponse, elapsedMs: number): void {
  const out = (s: string) => process.stdout.write(`${s}\n`);
  if (!result.ok) return;
  out(`digest: ${result.digest}`);
  for (const [i, r] of (result.responses ?? []).entries()) {
    const utf8 = Buffer.from(r.payload.slice(2), "hex").toString("utf8");
    out(`response ${i}: payload ${r.payload}`);
    out(`  utf8: ${utf8}`);
    out(`  ordering: ${r.ordering ?? "none"}  event_id_salt: ${r.event_id_salt ?? "none"}`);
  }
  for (const a of result.actions ?? []) out(`action: ${JSON.stringify(a)}`);
  for (const line of result.logs) out(`log: ${line}`);
  out(
    `time: ${result.durationMs} ms in the runtime${result.transpileMs !== undefined ? ` (transpile ${result.transpileMs} ms)` : ""}, ${elapsedMs} ms in all`,
  );
}

async function execWorld(world: ExecRequest["world"], argv: string[]): Promise<number> {
  let flags: Flags;
  let request: ExecRequest;
  try {
    flags = parse(argv);
    if (flags.single.has("help")) {
      process.stdout.write(`${EXEC_HELP}\n`);
      return 0;
    }
    request = await buildRequest(world, flags);
  } catch (e) {
    process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    return e instanceof UsageError ? 2 : 1;
  }
  const json = flags.single.has("json");
  try {
    // A fresh clone has no runtime yet (src/execute/generated/): build it, or skip in a blink.
    await ensureBuilt(["runtime"], { onStep: (line) => process.stderr.write(`${line}\n`) });
  } catch (e) {
    process.stderr.write(`error: ${e instanceof BuildError ? e.message : String(e)}\n`);
    return 1;
  }
  const started = Date.now();
  let result: ExecResponse;
  try {
    result = await runInWorkerd(request, Object.fromEntries(pairs(flags.repeated.get("env") ?? [], "env")));
  } catch (e) {
    process.stderr.write(
      `error: could not run workerd: ${(e instanceof Error ? e.message : String(e)).split("\n")[0]}\n`,
    );
    return 1;
  }
  const elapsedMs = Date.now() - started;
  if (json) process.stdout.write(`${JSON.stringify({ ...result, elapsedMs })}\n`);
  else printHuman(result, elapsedMs);
  if (!result.ok) {
    if (!json) for (const line of result.logs) process.stderr.write(`log: ${line}\n`);
    process.stderr.write(`error: ${result.kind}: ${result.message}\n`);
    return 1;
  }
  return 0;
}

/** `wavs-edge exec …`: runs an operator component's `run` once; resolves to the exit code. */
export function execCommand(argv: string[]): Promise<number> {
  return execWorld("operator", argv);
}

/** `wavs-edge exec-aggregator …`: calls an aggregator component's `process-input` once with
 * --input as the operator's response payload; resolves to the exit code. */
export function execAggregatorCommand(argv: string[]): Promise<number> {
  return execWorld("aggregator", argv);
}
