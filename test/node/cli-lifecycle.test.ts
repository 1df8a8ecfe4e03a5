/**
 * The CLI never hangs: in a copy of the repository as `npm ci` leaves it (no build/, no
 * src/execute/generated/), `wavs-edge exec` builds the runtime it needs or fails in one line; every
 * failure is one `error:` line and a non-zero exit; a signal or the parent's death stops it and the
 * build it started.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const REPO = process.cwd();
let copy: string;
let component: string;

/** The tracked files of the repository, node_modules linked: what a fresh clone has after `npm ci`. */
function freshCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), "wavs-edge-fresh-"));
  const files = execFileSync("git", ["ls-files", "-z"], { cwd: REPO, encoding: "utf8" }).split("\0").filter(Boolean);
  for (const f of files) {
    if (!existsSync(join(REPO, f))) continue; // deleted in the work tree, not yet committed
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    cpSync(join(REPO, f), join(dir, f));
  }
  symlinkSync(join(REPO, "node_modules"), join(dir, "node_modules"));
  return dir;
}

function wavsEdge(cwd: string, args: string[], timeout: number) {
  const r = spawnSync(process.execPath, ["bin/wavs-edge.mjs", ...args], { cwd, encoding: "utf8", timeout });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

const errorLines = (stderr: string) => stderr.split("\n").filter((l) => l.startsWith("error:"));

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(what: string, check: () => boolean, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Pids of the Node processes running `script` (read from /proc, no ps needed). */
function pidsRunning(script: string): number[] {
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
        return argv[0] === process.execPath && argv.includes(script);
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
}

beforeAll(() => {
  copy = freshCopy();
  // the component comes from the real tree's build (the copy has none, as after npm ci)
  component = join(copy, "..", `${copy.split("/").pop()}-square.wasm`);
  cpSync(join(REPO, "build/components/square.wasm"), component);
  expect(existsSync(join(copy, "src/execute/generated"))).toBe(false);
  expect(existsSync(join(copy, "build"))).toBe(false);
});

afterAll(() => {
  rmSync(copy, { recursive: true, force: true });
  rmSync(component, { force: true });
});

describe("wavs-edge after npm ci", () => {
  it("exec stops on SIGTERM while building the runtime, and takes the build with it", async () => {
    const child = spawn(
      process.execPath,
      ["bin/wavs-edge.mjs", "exec", "--component", component, "--input", '{"x":3}'],
      {
        cwd: copy,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    const buildScript = join(copy, "scripts/build-runtime.ts");
    await waitFor("the runtime build to start", () => pidsRunning(buildScript).length > 0, 60_000);
    const builds = pidsRunning(buildScript);
    expect(stderr).toContain("building runtime");
    child.kill("SIGTERM");
    expect(await exited).toBe(143);
    expect(stderr).toContain("stopping (SIGTERM)");
    await waitFor("the build to end", () => builds.every((pid) => !isAlive(pid)), 10_000);
  }, 120_000);

  it("exec dies with its parent: a killed parent leaves no CLI behind", async () => {
    // sh starts the CLI in the background and is then killed with SIGKILL, so it can pass nothing on.
    const sh = spawn(
      "sh",
      [
        "-c",
        `"${process.execPath}" bin/wavs-edge.mjs exec --component "${component}" --input '{"x":3}' >/dev/null 2>&1 & echo $!; wait`,
      ],
      {
        cwd: copy,
        stdio: ["ignore", "pipe", "ignore"],
      },
    );
    const cliPid = await new Promise<number>((r) =>
      sh.stdout.once("data", (d: Buffer) => r(Number(d.toString().trim()))),
    );
    await waitFor(
      "the CLI to start building",
      () => pidsRunning(join(copy, "scripts/build-runtime.ts")).length > 0,
      60_000,
    );
    sh.kill("SIGKILL");
    await waitFor("the orphaned CLI to exit", () => !isAlive(cliPid), 15_000);
    await waitFor("its build to end", () => pidsRunning(join(copy, "scripts/build-runtime.ts")).length === 0, 10_000);
  }, 120_000);

  it("exec builds the missing runtime on first use, then runs the component", () => {
    // First use whatever the tests before left: an interrupted build may or may not have finished.
    rmSync(join(copy, "src/execute/generated"), { recursive: true, force: true });
    rmSync(join(copy, "build/.hashes/runtime"), { force: true });
    const r = wavsEdge(copy, ["exec", "--component", component, "--input", '{"x":12}'], 290_000);
    expect(r.signal).toBeNull();
    expect(r.stderr).toContain("building runtime");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('utf8: {"y":144}');
    expect(existsSync(join(copy, "src/execute/generated/version.js"))).toBe(true);
    // the second run finds the runtime up to date and builds nothing
    const again = wavsEdge(copy, ["exec", "--component", component, "--input", '{"x":2}'], 110_000);
    expect(again.code).toBe(0);
    expect(again.stderr).not.toContain("building");
  }, 420_000);

  it("a runtime that does not build: exec exits 1 in one line naming what to run", () => {
    const guest = join(copy, "src/execute/guest/main.ts");
    const original = readFileSync(guest, "utf8");
    writeFileSync(guest, `${original}\nimport "./no-such-module";\n`);
    try {
      const r = wavsEdge(copy, ["exec", "--component", component, "--input", '{"x":1}'], 110_000);
      expect(r.signal).toBeNull();
      expect(r.code).toBe(1);
      expect(errorLines(r.stderr)).toHaveLength(1);
      expect(errorLines(r.stderr)[0]).toMatch(
        /^error: building runtime failed .*; run npm run build:runtime for the details$/,
      );
    } finally {
      writeFileSync(guest, original);
    }
  }, 120_000);

  it("a node that does not answer: one error line, exit 1", () => {
    const r = wavsEdge(copy, ["tasks", "--node", "http://127.0.0.1:9", "--token", "t"], 60_000);
    expect(r.code).toBe(1);
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  }, 70_000);
});
