/**
 * Reads what a WebAssembly component imports and exports from its binary: the top-level import
 * (id 10) and export (id 11) sections of the component-model encoding, skipping every other
 * section by its length (nested components and core modules are never entered). Pure; no
 * transpiling, so it is cheap enough for every upload.
 */
import { InvalidComponentError } from "./errors";

/** Which WAVS world a component can serve, judged by its exports. */
export type ComponentWorld = "operator" | "aggregator";

export type ComponentItemKind = "core-module" | "func" | "value" | "type" | "component" | "instance";

export interface ComponentItem {
  name: string;
  kind: ComponentItemKind;
}

export interface ComponentInfo {
  /** "operator" when it exports `run`, else "aggregator" (it exports the aggregator's three functions) */
  world: ComponentWorld;
  /** top-level imports in binary order, e.g. `wasi:cli/environment@0.2.3` (instance), `host` */
  imports: ComponentItem[];
  /** top-level exports in binary order, e.g. `run` (func) */
  exports: ComponentItem[];
}

const KINDS: ComponentItemKind[] = ["core-module", "func", "value", "type", "component", "instance"];
const AGGREGATOR_EXPORTS = ["process-input", "handle-timer-callback", "handle-submit-callback"];

const SECTION_IMPORT = 10;
const SECTION_EXPORT = 11;

/**
 * Lists a component's imports and exports and decides its world.
 * @throws InvalidComponentError when the bytes are not a component (see assertComponentBytes),
 *   are malformed, or export neither the operator's `run` nor the aggregator's three functions
 */
export function readComponentInfo(bytes: Uint8Array): ComponentInfo {
  const { imports, exports } = readImportsExports(bytes);
  const funcs = new Set(exports.filter((e) => e.kind === "func").map((e) => e.name));
  let world: ComponentWorld;
  if (funcs.has("run")) world = "operator";
  else if (AGGREGATOR_EXPORTS.every((f) => funcs.has(f))) world = "aggregator";
  else {
    const missing = AGGREGATOR_EXPORTS.filter((f) => !funcs.has(f));
    throw new InvalidComponentError(
      "wrong-exports",
      `the component exports neither the operator function \`run\` (wavs:operator world) nor all of the aggregator functions ${AGGREGATOR_EXPORTS.map((f) => `\`${f}\``).join(", ")} (wavs:aggregator world${missing.length < 3 ? `; missing ${missing.join(", ")}` : ""}); it exports: ${exports.map((e) => `${e.name} (${e.kind})`).join(", ") || "nothing"}`,
    );
  }
  return { world, imports, exports };
}

/**
 * Reads the top-level import and export sections.
 * @throws InvalidComponentError when the binary is cut short or uses an encoding this reader
 *   does not know
 */
export function readImportsExports(bytes: Uint8Array): { imports: ComponentItem[]; exports: ComponentItem[] } {
  const r = new Reader(bytes);
  r.offset = 8; // magic + version + layer, checked by assertComponentBytes
  const imports: ComponentItem[] = [];
  const exports: ComponentItem[] = [];
  while (r.offset < bytes.length) {
    const id = r.byte();
    const size = r.u32();
    const end = r.offset + size;
    if (end > bytes.length) throw malformed(`section ${id} runs past the end of the binary`);
    if (id === SECTION_IMPORT) {
      const count = r.u32();
      for (let i = 0; i < count; i++) {
        const name = r.externName();
        imports.push({ name, kind: r.externDesc() });
      }
      if (r.offset !== end) throw malformed("import section length does not match its contents");
    } else if (id === SECTION_EXPORT) {
      const count = r.u32();
      for (let i = 0; i < count; i++) {
        const name = r.externName();
        const kind = r.sortIdx();
        const typed = r.byte();
        if (typed === 0x01) r.externDesc();
        else if (typed !== 0x00) throw malformed(`export ${name}: unknown type ascription 0x${typed.toString(16)}`);
        exports.push({ name, kind });
      }
      if (r.offset !== end) throw malformed("export section length does not match its contents");
    }
    r.offset = end;
  }
  return { imports, exports };
}

function malformed(what: string): InvalidComponentError {
  return new InvalidComponentError("malformed", `malformed WebAssembly component: ${what}`);
}

class Reader {
  offset = 0;
  constructor(private readonly bytes: Uint8Array) {}

  byte(): number {
    if (this.offset >= this.bytes.length) throw malformed("unexpected end of the binary");
    return this.bytes[this.offset++]!;
  }

  /** unsigned LEB128, at most 5 bytes */
  u32(): number {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) {
        if (result > 0xffffffff) break;
        return result;
      }
    }
    throw malformed("integer out of range");
  }

  string(): string {
    const length = this.u32();
    if (this.offset + length > this.bytes.length) throw malformed("a name runs past the end of the binary");
    const text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(
      this.bytes.subarray(this.offset, this.offset + length),
    );
    this.offset += length;
    return text;
  }

  /** importname' / exportname': a prefix byte (0x00, or 0x01 in older encodings) and a string */
  externName(): string {
    const prefix = this.byte();
    if (prefix !== 0x00 && prefix !== 0x01) throw malformed(`unknown name encoding 0x${prefix.toString(16)}`);
    return this.string();
  }

  externDesc(): ComponentItemKind {
    const tag = this.byte();
    switch (tag) {
      case 0x00: // core module: 0x11 and a core type index
        if (this.byte() !== 0x11) throw malformed("core module import without its 0x11 marker");
        this.u32();
        return "core-module";
      case 0x02: // value bound: eq index, or a value type
        this.byte();
        this.u32();
        return "value";
      case 0x03: // type bound: eq index, or sub resource
        if (this.byte() === 0x00) this.u32();
        return "type";
      case 0x01:
      case 0x04:
      case 0x05:
        this.u32();
        return KINDS[tag]!;
      default:
        throw malformed(`unknown extern kind 0x${tag.toString(16)}`);
    }
  }

  sortIdx(): ComponentItemKind {
    const sort = this.byte();
    if (sort === 0x00)
      this.byte(); // core sort
    else if (sort > 0x05) throw malformed(`unknown sort 0x${sort.toString(16)}`);
    this.u32();
    return KINDS[sort]!;
  }
}
