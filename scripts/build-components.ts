/**
 * Builds every JavaScript or TypeScript component under components/<name>/ and
 * test/fixtures/components/<name>/ (entry index.js or index.ts) into build/components/<name>.wasm with `jco componentize --backend qjs`
 * (QuickJS), against the `operator-js` world in wit/, or the world named in the folder's
 * component.json (`{"world": "aggregator-js"}`), and every WAT fixture test/fixtures/wat/<name>.wat
 * with jco's wasm-tools commands (parse, embed, new; see test/fixtures/wat/README.md), and the
 * TypeScript declarations of the builder worlds (operator-js, operator-kv-js, aggregator-js) into
 * build/types/<world>/ for editors and type checks. A TypeScript component is type-checked against
 * its world's declarations (tsc, options in components/tsconfig.base.json) and its types stripped
 * (esbuild) before componentizing. A component.json may name `"backend": "starlingmonkey"`
 * (jco's componentize-js, whose `fetch` runs on wasi:http, which QuickJS cannot link yet; ~13 MB,
 * a minute or two to build, so it is rebuilt only when its sources or wit/ changed). Offline.
 * Usage: `npm run build:components [-- name...]`.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const sourceDirs = [join(root, "components"), join(root, "test/fixtures/components")];
const watDir = join(root, "test/fixtures/wat");
const outDir = join(root, "build/components");
const DEFAULT_WORLD = "operator-js";
const BUILDER_WORLDS = ["operator-js", "operator-kv-js", "aggregator-js"];

type Backend = "qjs" | "starlingmonkey";

/** A component folder's component.json: its world and backend (defaults operator-js, qjs). */
async function manifestOf(entry: string): Promise<{ world: string; backend: Backend }> {
  const manifest = join(dirname(entry), "component.json");
  if (!existsSync(manifest)) return { world: DEFAULT_WORLD, backend: "qjs" };
  const parsed = JSON.parse(await readFile(manifest, "utf8")) as { world?: string; backend?: string };
  const backend = parsed.backend ?? "qjs";
  if (backend !== "qjs" && backend !== "starlingmonkey")
    throw new Error(`${manifest}: backend must be qjs or starlingmonkey`);
  return { world: parsed.world ?? DEFAULT_WORLD, backend };
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const entries = new Map<string, string>();
  const wats = new Map<string, string>();
  if (existsSync(watDir)) {
    for (const f of await readdir(watDir))
      if (f.endsWith(".wat")) wats.set(f.slice(0, -".wat".length), join(watDir, f));
  }
  for (const dir of sourceDirs) {
    if (!existsSync(dir)) continue;
    for (const d of await readdir(dir, { withFileTypes: true })) {
      const ts = join(dir, d.name, "index.ts");
      const entry = existsSync(ts) ? ts : join(dir, d.name, "index.js");
      if (!d.isDirectory() || !existsSync(entry)) continue;
      if (entries.has(d.name) || wats.has(d.name)) throw new Error(`two components named ${d.name}`);
      entries.set(d.name, entry);
    }
  }
  const names = [...entries.keys(), ...wats.keys()].filter((name) => only.length === 0 || only.includes(name)).sort();
  if (only.length > 0 && names.length !== only.length) {
    throw new Error(`unknown component(s): ${only.filter((n) => !names.includes(n)).join(", ")}`);
  }
  await mkdir(outDir, { recursive: true });
  if (only.length === 0 || names.some((n) => entries.get(n)?.endsWith(".ts"))) await writeWorldTypes();
  // Two at a time: each build is mostly one child process (jco componentize, tsc), and one lane
  // leaves the second core idle (the suite's fresh-clone build was half this step).
  const queue = [...names];
  const lane = async () => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) await buildComponent(name, entries, wats);
  };
  await Promise.all([lane(), lane()]);
}

/** Builds one component (WAT or JS/TS source) into build/components/<name>.wasm. */
async function buildComponent(name: string, entries: Map<string, string>, wats: Map<string, string>): Promise<void> {
  const started = Date.now();
  const out = join(outDir, `${name}.wasm`);
  const wat = wats.get(name);
  if (wat) {
    await buildWat(name, wat, out);
    console.log(
      `build-components: ${name} -> build/components/${name}.wasm (${(await stat(out)).size} B, ${Date.now() - started} ms)`,
    );
    return;
  }
  const { world, backend } = await manifestOf(entries.get(name)!);
  if (backend === "starlingmonkey" && (await isFresh(out, [dirname(entries.get(name)!), join(root, "wit")]))) {
    console.log(`build-components: ${name} is up to date (build/components/${name}.wasm)`);
    return;
  }
  const source = entries.get(name)!.endsWith(".ts")
    ? await compileTypeScript(name, entries.get(name)!, world, backend)
    : entries.get(name)!;
  if (backend === "starlingmonkey") await componentizeStarlingMonkey(source, world, out);
  else
    await run(join(root, "node_modules/.bin/jco"), [
      "componentize",
      // absolute paths: jco resolves the entry against its own working directory
      source,
      "--wit",
      join(root, "wit"),
      "--world-name",
      world,
      "--backend",
      "qjs",
      // these components await nothing; the sync runtime needs no JSPI to run
      "--backend-qjs-disable-async",
      "-o",
      out,
    ]);
  const size = (await stat(out)).size;
  console.log(
    `build-components: ${name} -> build/components/${name}.wasm (${(size / 1024).toFixed(0)} KiB, ${Date.now() - started} ms)`,
  );
}

/**
 * Type-checks a TypeScript component against its world's generated declarations, then strips
 * its types: the JavaScript componentize-qjs takes, in build/components-js/<name>.js.
 * @throws Error with tsc's diagnostics when the component does not type-check
 */
async function compileTypeScript(name: string, entry: string, world: string, backend: Backend): Promise<string> {
  const config = join(root, "build/components-js", `tsconfig.${name}.json`);
  await mkdir(dirname(config), { recursive: true });
  await writeFile(
    config,
    JSON.stringify({
      extends: join(root, "components/tsconfig.base.json"),
      // StarlingMonkey provides the web globals (fetch, TextEncoder, …); QuickJS does not
      ...(backend === "starlingmonkey" ? { compilerOptions: { lib: ["ES2022", "ESNext.Disposable", "DOM"] } } : {}),
      files: [entry, join(root, "build/types", world, `${world}.d.ts`)],
    }),
  );
  await run(join(root, "node_modules/.bin/tsc"), ["-p", config]);
  const { transform } = await import("esbuild");
  const out = join(root, "build/components-js", `${name}.js`);
  const { code } = await transform(await readFile(entry, "utf8"), { loader: "ts", format: "esm", target: "es2022" });
  await writeFile(out, code);
  return out;
}

/**
 * Componentizes with StarlingMonkey through componentize-js's API (jco's CLI for this backend
 * cannot read the WIT: preview2-shim 0.26 starts with no preopened directory, so one is granted).
 */
async function componentizeStarlingMonkey(source: string, world: string, out: string): Promise<void> {
  const { _setPreopens } = await import("@bytecodealliance/preview2-shim/filesystem");
  (_setPreopens as (p: Record<string, string>) => void)({ "/": "/" });
  const { componentize } = (await import("@bytecodealliance/componentize-js")) as unknown as {
    componentize(options: {
      sourcePath: string;
      witPath: string;
      worldName: string;
    }): Promise<{ component: Uint8Array }>;
  };
  const { component } = await componentize({ sourcePath: source, witPath: join(root, "wit"), worldName: world });
  await writeFile(out, component);
}

/** Whether `out` is newer than every file under `inputs` (and this script). */
async function isFresh(out: string, inputs: string[]): Promise<boolean> {
  if (!existsSync(out)) return false;
  const built = (await stat(out)).mtimeMs;
  const newest = async (path: string): Promise<number> => {
    const s = await stat(path);
    if (!s.isDirectory()) return s.mtimeMs;
    const children = await readdir(path);
    return Math.max(s.mtimeMs, ...(await Promise.all(children.map((c) => newest(join(path, c))))));
  };
  const inputTimes = await Promise.all([...inputs, fileURLToPath(import.meta.url)].map(newest));
  return inputTimes.every((t) => t < built);
}

/** Guest-side declarations of the worlds builders write components against. */
async function writeWorldTypes(): Promise<void> {
  const { _setPreopens } = await import("@bytecodealliance/preview2-shim/filesystem");
  const { generateGuestTypes } = await import("@bytecodealliance/jco-transpile");
  (_setPreopens as (p: Record<string, string>) => void)({ "/": "/" });
  for (const world of BUILDER_WORLDS) {
    const files = await generateGuestTypes(join(root, "wit"), { worldName: world });
    for (const [file, bytes] of Object.entries(files)) {
      const path = join(root, "build/types", world, file);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, bytes);
    }
    console.log(`build-components: types of ${world} -> build/types/${world}/`);
  }
}

/**
 * WAT → core module → core module with the world's type information → component, in-process
 * through jco's wasm-tools API (the CLI's `embed --wit` cannot read paths: preview2-shim 0.26
 * starts with no preopened directory, so one is granted here).
 */
async function buildWat(name: string, wat: string, out: string): Promise<void> {
  const { _setPreopens } = await import("@bytecodealliance/preview2-shim/filesystem");
  const tools = await import("@bytecodealliance/jco-transpile/wasm-tools");
  (_setPreopens as (p: Record<string, string>) => void)({ "/": "/" });
  const ownWit = join(watDir, `${name}.wit`);
  const text = await readFile(wat, "utf8");
  // a first line `;; world: <name>` picks another world from wit/
  const named = /^;; world: ([a-z0-9-]+)/.exec(text)?.[1];
  const [witPath, world] = existsSync(ownWit) ? [ownWit, name] : [join(root, "wit"), named ?? DEFAULT_WORLD];
  const core = await tools.parse(text);
  const embedded = await tools.componentEmbed({ binary: core, witPath, world });
  await writeFile(out, await tools.componentNew(embedded, []));
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.on("error", reject);
    child.on("exit", (code) => {
      if (code === 0) resolvePromise();
      else reject(new Error(`${command} ${args.join(" ")} exited with ${code}\n${stdout}`));
    });
  });
}

await main();
