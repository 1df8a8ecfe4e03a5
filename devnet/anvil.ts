/**
 * Starts and stops a local anvil chain for scripts and tests, and derives anvil's well-known dev
 * accounts from its mnemonic.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { mnemonicToAccount, type HDAccount } from "viem/accounts";

/** anvil's default dev mnemonic; its accounts hold 10 000 ETH each on a fresh chain. Never use it on a real chain. */
export const ANVIL_MNEMONIC = "test test test test test test test test test test test junk";

/** How many accounts anvil funds by default. */
export const ANVIL_ACCOUNT_COUNT = 10;

const accounts = new Map<number, HDAccount>();

/** The anvil dev account at m/44'/60'/0'/0/{index} (index 0 is anvil's default sender). */
export function anvilAccount(index = 0): HDAccount {
  let account = accounts.get(index);
  if (!account) {
    account = mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: index });
    accounts.set(index, account);
  }
  return account;
}

export type StartAnvilParameters = {
  /** Port to listen on; 0 or omitted picks a free one. */
  port?: number;
  /** Seconds between blocks; omitted mines one block per transaction. */
  blockTime?: number;
  /** How long to wait for the RPC to answer; default 15 s. */
  timeoutMs?: number;
  /** The chain id anvil reports; default anvil's 31337. */
  chainId?: number;
};

export type StartAnvilReturnType = {
  rpcUrl: string;
  port: number;
  chainId: number;
  /** Kills anvil and resolves once the process has exited. Safe to call more than once. */
  stop(): Promise<void>;
};

function anvilBinary(): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve("@foundry-rs/anvil-linux-amd64/package.json");
  return join(dirname(pkg), "bin", "anvil");
}

/**
 * Spawns anvil on 127.0.0.1 and waits until `eth_chainId` answers.
 * @throws Error when anvil exits early or does not answer within `timeoutMs` (the process is killed).
 */
export async function startAnvil(params: StartAnvilParameters = {}): Promise<StartAnvilReturnType> {
  const { port = 0, blockTime, timeoutMs = 15_000 } = params;
  const args = ["--host", "127.0.0.1", "--port", String(port)];
  if (blockTime !== undefined) args.push("--block-time", String(blockTime));
  if (params.chainId !== undefined) args.push("--chain-id", String(params.chainId));

  const child = spawn(anvilBinary(), args, { stdio: ["ignore", "pipe", "pipe"] });
  // Best effort when the parent dies without calling stop(): never leave anvil behind.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  exited.then(() => process.removeListener("exit", killOnExit));

  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= terminate(child, exited));

  try {
    // anvil prints the port it bound only in its (non-quiet) banner, so read stdout for it and
    // keep draining the per-request log afterwards so the pipe never fills up.
    const boundPort = await readListeningPort(child, timeoutMs);
    const rpcUrl = `http://127.0.0.1:${boundPort}`;
    const chainId = await waitForChainId(rpcUrl, child, timeoutMs);
    return { rpcUrl, port: boundPort, chainId, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function terminate(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 3_000);
  await exited;
  clearTimeout(timer);
}

function readListeningPort(child: ChildProcess, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    const done = (fn: () => void) => {
      clearTimeout(timer);
      child.removeListener("exit", onExit);
      fn();
    };
    const onStdout = (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
      const match = /Listening on [^\s:]+:(\d+)/.exec(stdout);
      if (match) {
        stdout = "";
        child.stdout?.removeListener("data", onStdout);
        child.stdout?.resume();
        done(() => resolve(Number(match[1])));
      }
    };
    const onExit = (code: number | null, signal: string | null) =>
      done(() => reject(new Error(`anvil exited (${signal ?? code}) before listening: ${stderr.trim()}`)));
    const timer = setTimeout(
      () => done(() => reject(new Error(`anvil did not start listening within ${timeoutMs} ms`))),
      timeoutMs,
    );
    child.stdout?.on("data", onStdout);
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString("utf8")).slice(-4_000);
    });
    child.once("exit", onExit);
  });
}

async function waitForChainId(rpcUrl: string, child: ChildProcess, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`anvil exited with code ${child.exitCode}`);
    try {
      const response = await fetch(rpcUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      });
      const body = (await response.json()) as { result?: string };
      if (body.result) return Number(BigInt(body.result));
    } catch {
      // not accepting connections yet
    }
    if (Date.now() > deadline) throw new Error(`anvil at ${rpcUrl} did not answer eth_chainId within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
