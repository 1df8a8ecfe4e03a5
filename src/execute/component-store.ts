import { readComponentInfo, type ComponentInfo } from "./component-info";
import { InvalidComponentError } from "./errors";

export { InvalidComponentError };

/** The largest component the node stores, uploaded or downloaded (15 MiB). */
export const MAX_COMPONENT_BYTES = 15 * 1024 * 1024;

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];
/** Component binaries: version 0x000d, layer 0x0001 (core modules have version 1, layer 0). */
const COMPONENT_VERSION = [0x0d, 0x00];
const COMPONENT_LAYER = [0x01, 0x00];

/** R2 key of a component's bytes. */
export function componentKey(digest: string): string {
  return `components/${digest}`;
}

/** R2 key of a component's imports, exports and world (JSON), written at upload. */
export function componentInfoKey(digest: string): string {
  return `component-info/${digest}`;
}

/**
 * Checks that `bytes` is a WebAssembly component (not a core module, not something else).
 * @throws InvalidComponentError with what is wrong
 */
export function assertComponentBytes(bytes: Uint8Array): void {
  if (bytes.length < 8) {
    throw new InvalidComponentError(
      "not-wasm",
      `not a WebAssembly component: ${bytes.length} bytes, shorter than a wasm header`,
    );
  }
  if (!WASM_MAGIC.every((b, i) => bytes[i] === b)) {
    throw new InvalidComponentError("not-wasm", "not a WebAssembly component: missing the \\0asm magic number");
  }
  const version = bytes[4]! | (bytes[5]! << 8);
  const layer = bytes[6]! | (bytes[7]! << 8);
  if (layer === 0) {
    throw new InvalidComponentError(
      "core-module",
      `a core WebAssembly module (version ${version}), not a component: build it as a component (e.g. cargo component / wasm32-wasip2, or wasm-tools component new)`,
    );
  }
  if (
    layer !== 1 ||
    !COMPONENT_VERSION.every((b, i) => bytes[4 + i] === b) ||
    !COMPONENT_LAYER.every((b, i) => bytes[6 + i] === b)
  ) {
    throw new InvalidComponentError(
      "unsupported-encoding",
      `unsupported WebAssembly component encoding (version 0x${version.toString(16)}, layer ${layer}); expected version 0xd, layer 1`,
    );
  }
}

/** sha256 of the bytes, lowercase hex: WAVS's component digest. */
export async function computeComponentDigest(bytes: Uint8Array): Promise<string> {
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Whether the component's bytes are stored. */
export async function componentExists(env: Pick<Env, "COMPONENTS">, digest: string): Promise<boolean> {
  return (await env.COMPONENTS.head(componentKey(digest))) !== null;
}

export interface StoreComponentResult extends ComponentInfo {
  digest: string;
  size: number;
  /** false when the same bytes were already stored */
  created: boolean;
}

/**
 * Validates a component (a component, not a core module, exporting an operator's `run` or an
 * aggregator's three functions) and stores it in R2 under its digest, with its info.
 * @throws InvalidComponentError saying what is wrong with the bytes
 */
export async function storeComponent(env: Pick<Env, "COMPONENTS">, bytes: Uint8Array): Promise<StoreComponentResult> {
  assertComponentBytes(bytes);
  const info = readComponentInfo(bytes);
  const digest = await computeComponentDigest(bytes);
  const created = !(await componentExists(env, digest));
  // info first: a stored component always has its info, or the reader recomputes it
  await env.COMPONENTS.put(componentInfoKey(digest), JSON.stringify(info), {
    httpMetadata: { contentType: "application/json" },
  });
  if (created) {
    await env.COMPONENTS.put(componentKey(digest), bytes, { httpMetadata: { contentType: "application/wasm" } });
  }
  return { digest, size: bytes.length, created, ...info };
}

export interface StoredComponent extends ComponentInfo {
  digest: string;
  size: number;
}

/**
 * A stored component's size, world, imports and exports; undefined when it is not stored.
 * Components stored without info (before it existed) are read once and get it.
 * @throws InvalidComponentError when stored bytes are no longer accepted as a component
 */
export async function getStoredComponent(
  env: Pick<Env, "COMPONENTS">,
  digest: string,
): Promise<StoredComponent | undefined> {
  const [head, infoObject] = await Promise.all([
    env.COMPONENTS.head(componentKey(digest)),
    env.COMPONENTS.get(componentInfoKey(digest)),
  ]);
  if (!head) return undefined;
  let info: ComponentInfo;
  if (infoObject) {
    info = (await infoObject.json()) as ComponentInfo;
  } else {
    const object = await env.COMPONENTS.get(componentKey(digest));
    if (!object) return undefined;
    info = readComponentInfo(new Uint8Array(await object.arrayBuffer()));
    await env.COMPONENTS.put(componentInfoKey(digest), JSON.stringify(info));
  }
  return { digest, size: head.size, ...info };
}

export interface ListComponentsResult {
  components: { digest: string; size: number; uploaded: string }[];
  /** pass back to get the next page; absent on the last page */
  cursor?: string;
}

/** Stored components, by digest, a page at a time. */
export async function listComponents(
  env: Pick<Env, "COMPONENTS">,
  options: { limit: number; cursor?: string },
): Promise<ListComponentsResult> {
  const page = await env.COMPONENTS.list({ prefix: "components/", limit: options.limit, cursor: options.cursor });
  return {
    components: page.objects.map((o) => ({
      digest: o.key.slice("components/".length),
      size: o.size,
      uploaded: o.uploaded.toISOString(),
    })),
    ...(page.truncated ? { cursor: page.cursor } : {}),
  };
}
