/**
 * Runs one wavs-edge node under `wrangler dev` (through wrangler's API: node-launcher.mjs) with its
 * own port, state directory and secrets, the way an operator runs it locally.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { prepareMigratedState } from "./migrated-state";

const WRANGLER = join(process.cwd(), "node_modules", "wrangler", "bin", "wrangler.js");
const LAUNCHER = join(process.cwd(), "devnet", "node-launcher.mjs");
const QUIET = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", NO_COLOR: "1" };

export type NodeSecrets = {
  WAVS_SIGNING_MNEMONIC: string;
  WAVS_AGGREGATOR_EVM_CREDENTIAL: string;
  WAVS_BEARER_TOKEN: string;
};

export type StartNodeParameters = {
  /** Directory for this node's local D1/R2/DO state and its env file. */
  stateDir: string;
  port?: number;
  /** Written to the node's env file (wrangler reads only the secrets wrangler.toml declares). */
  secrets: NodeSecrets;
  /** Plain variables, e.g. CHAINS; they override wrangler.toml's [vars]. */
  vars?: Record<string, string>;
  /** Receives the node's log lines. */
  onLog?: (line: string) => void;
  timeoutMs?: number;
};

export type RunningNode = {
  url: string;
  port: number;
  stop(): Promise<void>;
  /** Kills the node's processes at once (SIGKILL), as a crash or an evicted machine would. */
  kill(): Promise<void>;
  /** Freezes (SIGSTOP) or thaws (SIGCONT) the node's processes: up, but answering nobody (tests of slow peers). */
  pause(paused: boolean): void;
};

/** A free TCP port on 127.0.0.1, preferring `preferred` when it is free. */
export async function freePort(preferred = 0): Promise<number> {
  const tryPort = (port: number) =>
    new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        const bound = (server.address() as { port: number }).port;
        server.close(() => resolve(bound));
      });
    });
  try {
    return await tryPort(preferred);
  } catch {
    return tryPort(0);
  }
}

/**
 * Applies the D1 migrations to the node's local state (a copy of migrated state when it is new),
 * then starts `wrangler dev` and waits until the node answers.
 * @throws Error with wrangler's last output when it exits or does not answer in time
 */
export async function startNode(params: StartNodeParameters): Promise<RunningNode> {
  const { stateDir, secrets, vars = {}, onLog = () => {}, timeoutMs = 60_000 } = params;
  await mkdir(stateDir, { recursive: true });
  const envFile = join(stateDir, "node.env");
  await writeFile(
    envFile,
    Object.entries(secrets)
      .map(([k, v]) => {
        if (/[\n'"]/.test(v)) throw new Error(`${k} must be one line without quotes`);
        return `${k}=${v}`;
      })
      .join("\n") + "\n",
    { mode: 0o600 },
  );
  const persist = join(stateDir, "state");
  await prepareMigratedState(persist, (dir) =>
    run(process.execPath, [WRANGLER, "d1", "migrations", "apply", "DB", "--local", "--persist-to", dir], onLog),
  );

  const port = params.port ?? (await freePort());
  const child = spawn(
    process.execPath,
    [LAUNCHER, JSON.stringify({ config: join(process.cwd(), "wrangler.toml"), port, persist, envFile, vars })],
    { stdio: ["ignore", "pipe", "pipe"], env: QUIET, detached: true },
  );
  const tail: string[] = [];
  // Another process may hold the port (a devnet starting beside this one): only our wrangler's own
  // "Ready on" line proves that the node answering there is ours.
  let ready = false;
  const onData = (chunk: Buffer) => {
    for (const line of chunk.toString().split("\n")) {
      if (!line.trim()) continue;
      if (line.includes(`Ready on http://127.0.0.1:${port}`)) ready = true;
      tail.push(line);
      if (tail.length > 30) tail.shift();
      onLog(line);
    }
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const killGroup = () => {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {}
  };
  process.once("exit", killGroup);

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      try {
        process.kill(-child.pid!, "SIGTERM");
        process.kill(-child.pid!, "SIGCONT"); // a paused node must wake up to hear it
      } catch {}
      const timer = setTimeout(killGroup, 5_000);
      await exited;
      clearTimeout(timer);
      process.removeListener("exit", killGroup);
    })());

  const kill = () =>
    (stopping ??= (async () => {
      killGroup();
      await exited;
      process.removeListener("exit", killGroup);
    })());

  const pause = (paused: boolean) => {
    try {
      process.kill(-child.pid!, paused ? "SIGSTOP" : "SIGCONT");
    } catch {}
  };

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  let dead = false;
  void exited.then(() => (dead = true));
  while (Date.now() < deadline && !dead) {
    try {
      const res = ready ? await fetch(`${url}/`) : undefined;
      if (res?.ok) return { url, port, stop, kill, pause };
    } catch {}
    await new Promise((r) => setTimeout(r, 200));
  }
  await stop();
  throw new Error(`the node did not start on ${url}:\n${tail.slice(-10).join("\n")}`);
}

function run(cmd: string, args: string[], onLog: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env: QUIET });
    let out = "";
    child.stdout!.on("data", (c: Buffer) => (out += c));
    child.stderr!.on("data", (c: Buffer) => (out += c));
    child.once("exit", (code) => {
      out.split("\n").filter(Boolean).forEach(onLog);
      code === 0 ? resolve() : reject(new Error(`${args.slice(1, 4).join(" ")} failed:\n${out.slice(-2000)}`));
    });
  });
}
