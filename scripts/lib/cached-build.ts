/**
 * The build steps (contracts, components, runtime, the CLI's bundle), each skipped when a sha256 of its inputs matches
 * the one recorded when its outputs were last written (build/.hashes/<step>). `npm run build`,
 * `wavs-edge devnet` (npm start) and `wavs-edge exec` go through here, so an unchanged tree starts
 * in seconds and a fresh clone builds what it lacks on first use.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** One build step: the script that runs it, what it reads, what it writes. */
export type BuildStep = {
  name: "contracts" | "components" | "runtime" | "cli";
  script: string;
  /** files or folders (repo-relative) whose bytes decide whether the outputs are stale */
  inputs: string[];
  /** repo-relative paths that must exist afterwards */
  outputs: string[];
};

// package-lock.json is an input of every step: a new solc, jco or esbuild rebuilds.
export const BUILD_STEPS: readonly BuildStep[] = [
  {
    name: "contracts",
    script: "scripts/build-contracts.ts",
    inputs: ["contracts", "scripts/build-contracts.ts", "package-lock.json"],
    outputs: ["src/chain/abi/wavs-service-manager.ts", "devnet/contracts/wavs-service-manager.ts"],
  },
  {
    name: "components",
    script: "scripts/build-components.ts",
    inputs: [
      "components",
      "test/fixtures/components",
      "test/fixtures/wat",
      "wit",
      "scripts/build-components.ts",
      "package-lock.json",
    ],
    outputs: ["build/components/square.wasm"],
  },
  {
    // The guest bundle pulls in modules from across src/ (host imports, event ids): hash all of it.
    name: "runtime",
    script: "scripts/build-runtime.ts",
    inputs: ["src", "scripts/build-runtime.ts", "package-lock.json"],
    outputs: ["src/execute/generated/version.js", "src/execute/generated/guest.js", "src/execute/generated/bindgen.js"],
  },
  {
    // What cli/ may import from the repository; bin/wavs-edge.mjs checks each bundled file again.
    name: "cli",
    script: "scripts/build-cli.ts",
    inputs: ["cli", "src", "devnet", "scripts/lib", "scripts/build-cli.ts", "package-lock.json"],
    outputs: ["build/cli/main.mjs", "build/cli/lifecycle.mjs", "build/cli/inputs.json"],
  },
];

const IGNORED = new Set(["node_modules", "generated", "target", ".git"]);

function listFiles(path: string): string[] {
  if (!existsSync(path)) return [];
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path, { withFileTypes: true })
    .filter((e) => !IGNORED.has(e.name))
    .flatMap((e) => listFiles(join(path, e.name)));
}

/** sha256 over the step's input files: their paths and bytes, in sorted order. */
export function inputHash(step: BuildStep, root = ROOT): string {
  const hash = createHash("sha256");
  const files = step.inputs.flatMap((p) => listFiles(join(root, p))).map((f) => relative(root, f).split(sep).join("/"));
  for (const file of [...new Set(files)].sort()) {
    hash.update(`${file}\0`);
    hash.update(readFileSync(join(root, file)));
    hash.update("\0");
  }
  return hash.digest("hex");
}

const hashFile = (root: string, step: BuildStep) => join(root, "build", ".hashes", step.name);

/** Whether the step's outputs exist and were built from inputs with this hash. */
export function isUpToDate(step: BuildStep, hash: string, root = ROOT): boolean {
  if (!step.outputs.every((o) => existsSync(join(root, o)))) return false;
  const path = hashFile(root, step);
  return existsSync(path) && readFileSync(path, "utf8").trim() === hash;
}

/** Raised when a step's script fails; `message` is one line naming the command to rerun. */
export class BuildError extends Error {
  override name = "BuildError";
}

/**
 * Runs the named steps whose inputs changed, in order, each as a child `node --import tsx` process
 * (killed if this process is interrupted). Reports each step through `onStep`.
 * @throws BuildError naming the step and its npm script when one fails
 */
export async function ensureBuilt(
  names: readonly BuildStep["name"][] = BUILD_STEPS.map((s) => s.name),
  options: { root?: string; onStep?: (line: string) => void; force?: boolean } = {},
): Promise<{ built: string[]; skipped: string[] }> {
  const root = options.root ?? ROOT;
  const onStep = options.onStep ?? (() => {});
  const built: string[] = [];
  const skipped: string[] = [];
  for (const step of BUILD_STEPS.filter((s) => names.includes(s.name))) {
    const hash = inputHash(step, root);
    if (!options.force && isUpToDate(step, hash, root)) {
      skipped.push(step.name);
      continue;
    }
    onStep(`building ${step.name} (${step.script})`);
    await runScript(root, step);
    const missing = step.outputs.filter((o) => !existsSync(join(root, o)));
    if (missing.length > 0)
      throw new BuildError(`build of ${step.name} wrote no ${missing.join(", ")}; run npm run build:${step.name}`);
    await mkdir(dirname(hashFile(root, step)), { recursive: true });
    await writeFile(hashFile(root, step), `${hash}\n`);
    built.push(step.name);
  }
  return { built, skipped };
}

function runScript(root: string, step: BuildStep): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(root, step.script)], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    });
    // Progress goes to stderr: a caller's stdout may be JSON (`wavs-edge exec --json`).
    child.stdout.on("data", (chunk: Buffer) => process.stderr.write(chunk));
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
      process.stderr.write(chunk);
    });
    // The build dies with us: an interrupted CLI leaves no compiler running.
    const kill = () => child.kill("SIGTERM");
    process.once("exit", kill);
    child.on("error", (e) => reject(new BuildError(`could not start the ${step.name} build: ${e.message}`)));
    child.on("close", (code, signal) => {
      process.off("exit", kill);
      if (code === 0) return resolvePromise();
      const last = stderr.trim().split("\n").filter(Boolean).pop() ?? `exit ${code ?? signal}`;
      reject(
        new BuildError(
          `building ${step.name} failed (${last.slice(0, 300)}); run npm run build:${step.name} for the details`,
        ),
      );
    });
  });
}
