/**
 * Bundles the `wavs-edge` CLI (cli/main.ts and cli/lifecycle.ts, with what they import from the
 * repository; packages stay imports) into build/cli/, and records the sha256 of every source file
 * in it (build/cli/inputs.json). bin/wavs-edge.mjs runs the bundle only while every one of those
 * files is unchanged, else the TypeScript through tsx: tsx's loader costs each CLI start ~1.5 s of
 * CPU (it hooks every module viem loads), which the test suite's ~80 CLI children paid.
 * Run with `npm run build:cli` (npm run build runs it). Offline, idempotent.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
// Two levels under the root, as the sources are (cli/commands/exec.ts finds the root from its own URL).
const OUT = join(ROOT, "build", "cli");

await rm(OUT, { recursive: true, force: true });
await mkdir(OUT, { recursive: true });
const result = await build({
  absWorkingDir: ROOT,
  // lifecycle is its own entry (bin installs it before loading the rest), sharing one module
  // instance with main through a chunk: exec registers its cleanups with the same onShutdown.
  entryPoints: { lifecycle: "cli/lifecycle.ts", main: "cli/main.ts" },
  outdir: OUT,
  outExtension: { ".js": ".mjs" },
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  packages: "external",
  metafile: true,
  logLevel: "warning",
});
const inputs = Object.keys(result.metafile.inputs).sort();
const files = Object.fromEntries(
  inputs.map((path) => [
    path,
    createHash("sha256")
      .update(readFileSync(join(ROOT, path)))
      .digest("hex"),
  ]),
);
await writeFile(join(OUT, "inputs.json"), `${JSON.stringify({ files }, null, 1)}\n`);
console.log(`build-cli: ${inputs.length} sources -> build/cli/`);
