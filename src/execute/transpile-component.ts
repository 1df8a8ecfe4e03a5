/**
 * Turns a component into what a dynamic worker can run: jco's transpiler (js-component-bindgen,
 * running inside this Worker from src/execute/generated/) emits an `--instantiation async` ES
 * module plus core wasm modules. Workers cannot compile wasm at run time, so every core module
 * must reach the loader as a `{wasm}` module; the few tiny helper modules jco inlines as
 * `new WebAssembly.Module(new Uint8Array([...]))` are hoisted into their own files.
 */
import { chooseAsyncMode } from "./async-mode";
import { readImportsExports } from "./component-info";
import { TRANSPILER_VERSION } from "./generated/version.js";

/** Bump when the options or post-processing below change what is produced. */
const OUTPUT_REVISION = 3;
const ARTIFACTS_VERSION = `${TRANSPILER_VERSION}-${OUTPUT_REVISION}`;

/** Transpiled output: the JS module and its core wasm modules, by file name. */
export interface ComponentArtifacts {
  js: string;
  /** core modules jco asks for through `getCoreModule(name)` */
  coreModules: Record<string, Uint8Array>;
  /** hoisted helper modules, imported by `js` as `./<name>` */
  inlineModules: Record<string, Uint8Array>;
  /** the component's top-level import names, e.g. `wasi:http/outgoing-handler@0.2.0`: the guest
   * decides from them what the component may be given (permissions) */
  imports: string[];
  /** transpiled with JSPI (see async-mode.ts): the exports return promises and imports may await */
  jspi: boolean;
}

/** R2 key of a component's transpiled artifacts for this transpiler. */
export function artifactsKey(digest: string): string {
  return `transpiled/${digest}/${ARTIFACTS_VERSION}`;
}

/**
 * Transpiles component bytes (CPU only; tens to hundreds of ms).
 * @throws Error with jco's message when the bytes are not a component jco can bind
 */
export async function transpileComponent(bytes: Uint8Array): Promise<ComponentArtifacts> {
  const imports = readImportsExports(bytes).imports.map((i) => i.name);
  const asyncMode = chooseAsyncMode(imports);
  const bindgen = await import("./generated/bindgen.js");
  await bindgen.$init;
  const out = bindgen.generate(bytes, {
    asyncMode,
    name: "component",
    instantiation: { tag: "async" },
    noNodejsCompat: true,
    noTypescript: true,
    // 0: never inline a core module as base64 (it would be compiled at run time)
    base64Cutoff: 0,
    // an exported result's `err` is thrown as the raw value
    noComponentErrorWrapping: true,
    tlaCompat: false,
    validLiftingOptimization: false,
    tracing: false,
  });

  let js: string | undefined;
  const coreModules: Record<string, Uint8Array> = {};
  for (const [name, content] of out.files) {
    if (name.endsWith(".js")) js = new TextDecoder().decode(content);
    else if (name.endsWith(".wasm")) coreModules[name] = content;
  }
  if (js === undefined) throw new Error("jco produced no JS module");
  return { ...hoistInlineModules(js, coreModules), imports, jspi: asyncMode.tag === "jspi" };
}

const INLINE_MODULE = /new WebAssembly\.Module\(\s*new Uint8Array\(\s*\[([\dA-Fa-fx\s,]*)\]\s*\)\s*\)/g;

function hoistInlineModules(
  js: string,
  coreModules: Record<string, Uint8Array>,
): Omit<ComponentArtifacts, "imports" | "jspi"> {
  const inlineModules: Record<string, Uint8Array> = {};
  const imports: string[] = [];
  const body = js.replace(INLINE_MODULE, (_match, list: string) => {
    const index = imports.length;
    const name = `inline-${index}.wasm`;
    inlineModules[name] = Uint8Array.from(
      list
        .split(",")
        .filter((s) => s.trim() !== "")
        .map(Number),
    );
    imports.push(`import inlineModule${index} from "./${name}";`);
    return `inlineModule${index}`;
  });
  if (/WebAssembly\.(compile|compileStreaming)\s*\(|new WebAssembly\.Module\s*\(/.test(body)) {
    throw new Error("jco output compiles wasm at run time in a form this runtime cannot hoist");
  }
  return { js: imports.length ? `${imports.join("\n")}\n${body}` : body, coreModules, inlineModules };
}

/*
 * Storage format of artifacts in R2: one object, so a cold load is a single read.
 * u32 LE manifest length ‖ manifest JSON (UTF-8) ‖ the files' bytes in manifest order.
 */
interface ArtifactsManifest {
  runtime: string;
  js: number;
  core: [string, number][];
  inline: [string, number][];
  imports: string[];
  jspi: boolean;
}

export function packArtifacts(a: ComponentArtifacts): Uint8Array {
  const js = new TextEncoder().encode(a.js);
  const core = Object.entries(a.coreModules);
  const inline = Object.entries(a.inlineModules);
  const manifest: ArtifactsManifest = {
    runtime: ARTIFACTS_VERSION,
    js: js.length,
    core: core.map(([n, b]) => [n, b.length]),
    inline: inline.map(([n, b]) => [n, b.length]),
    imports: a.imports,
    jspi: a.jspi,
  };
  const head = new TextEncoder().encode(JSON.stringify(manifest));
  const parts = [js, ...core.map(([, b]) => b), ...inline.map(([, b]) => b)];
  const out = new Uint8Array(4 + head.length + parts.reduce((n, p) => n + p.length, 0));
  new DataView(out.buffer).setUint32(0, head.length, true);
  out.set(head, 4);
  let offset = 4 + head.length;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** @throws Error when the object is not artifacts of this runtime version */
export function unpackArtifacts(bytes: Uint8Array): ComponentArtifacts {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headLength = view.getUint32(0, true);
  const manifest = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + headLength))) as ArtifactsManifest;
  if (manifest.runtime !== ARTIFACTS_VERSION) throw new Error(`artifacts of transpiler ${manifest.runtime}`);
  let offset = 4 + headLength;
  const take = (n: number): Uint8Array => {
    const part = bytes.subarray(offset, offset + n);
    offset += n;
    return part;
  };
  const js = new TextDecoder().decode(take(manifest.js));
  const coreModules = Object.fromEntries(manifest.core.map(([name, n]) => [name, take(n)]));
  const inlineModules = Object.fromEntries(manifest.inline.map(([name, n]) => [name, take(n)]));
  return { js, coreModules, inlineModules, imports: manifest.imports, jspi: manifest.jspi };
}
