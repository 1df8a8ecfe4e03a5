/**
 * Gets the dynamic worker that runs a component: one isolate per (digest, runtime version),
 * reused by the Worker Loader while it stays warm. Only a cold load touches R2, and only the
 * first load of a digest for a runtime version transpiles (the output is cached in R2).
 */
import { waitUntil } from "cloudflare:workers";
import { describeError, log } from "../log";
import { awaitShared, createSharedReads } from "../util/await-shared";
import type ComponentGuest from "./guest/main";
import { ExecutionError } from "./errors";
import { GUEST_COMPATIBILITY_DATE } from "./runtime-config";
import { componentKey } from "./component-store";
import {
  artifactsKey,
  packArtifacts,
  transpileComponent,
  unpackArtifacts,
  type ComponentArtifacts,
} from "./transpile-component";
import guestSource from "./generated/guest.js";
import { RUNTIME_VERSION } from "./generated/version.js";

/** What happened while getting the worker; fields stay false/undefined on a warm hit. */
export interface LoadReport {
  /** the loader asked for the code (a new isolate) */
  loaded: boolean;
  /** artifacts were read from R2 (or transpiled) for this run */
  artifactsRead?: boolean;
  /** this load transpiled the component (no cached artifacts) */
  transpiled: boolean;
  transpileMs?: number;
  /** stage times of this load (artifact read, component read, transpile), in ms */
  stagesMs: Record<string, number>;
  /** the write of freshly transpiled artifacts to R2, left running so that it overlaps the
   * isolate's start; the caller awaits it before returning (its failure only costs a later
   * transpile, so it never rejects) */
  pendingWrite?: Promise<void>;
  /** set when getting the code failed; the caller rethrows it instead of the loader's error */
  error?: ExecutionError;
}

export interface LoadedComponent {
  guest: Fetcher<ComponentGuest>;
  report: LoadReport;
  /** call after a run completed, so the next run skips the artifact read */
  markWarm: () => void;
}

/** Where a component worker's requests go: its gate (see outbound-gate.ts) or nowhere. Workers
 * with different gates are different isolates, so `key` names the policy. */
export interface ComponentOutbound {
  key: string;
  gate: Fetcher | null;
}

/** Loader id of a component's isolate (before its outbound key). */
export function componentWorkerId(digest: string): string {
  return `component:${digest}:${RUNTIME_VERSION}`;
}

/** Loader ids this Worker isolate has already run: their code is (very likely) loaded. */
const knownWorkers = new Set<string>();
/**
 * How long a cold run waits for another request's artifact read or transpile (await-shared.ts: that
 * request may be gone) before doing it itself; a transpile under load takes seconds.
 */
const ARTIFACTS_PATIENCE_MS = 30_000;
/** Artifact reads (and transpiles) in flight, so concurrent cold runs do the work once. */
const sharedArtifactReads = createSharedReads<ComponentArtifacts>(ARTIFACTS_PATIENCE_MS);

/**
 * Gets the component's worker. When this Worker isolate has not used the component yet, its
 * artifacts are read (or transpiled) before asking the loader, so that a missing component fails
 * here with a typed error rather than inside the loader's callback.
 * @throws ExecutionError component-missing or instantiate
 */
export async function loadComponent(
  env: Pick<Env, "LOADER" | "COMPONENTS">,
  digest: string,
  options: { cpuLimitMs: number; outbound?: ComponentOutbound },
): Promise<LoadedComponent> {
  const outbound = options.outbound ?? { key: "none", gate: null };
  const id = `${componentWorkerId(digest)}:${outbound.key}`;
  const report: LoadReport = { loaded: false, transpiled: false, stagesMs: {} };
  let prefetched: ComponentArtifacts | undefined;
  if (!knownWorkers.has(id)) {
    try {
      prefetched = await getArtifactsOnce(env, digest, report);
    } catch (e) {
      throw asExecutionError(e, digest);
    }
  }
  const stub = env.LOADER.get(id, async () => {
    report.loaded = true;
    try {
      const artifacts = prefetched ?? (await getArtifactsOnce(env, digest, report));
      prefetched = undefined;
      return toWorkerCode(artifacts, outbound.gate);
    } catch (e) {
      report.error = asExecutionError(e, digest);
      throw report.error;
    }
  });
  return {
    // cpuMs is enforced in production (not by local workerd): it stops a run that outlives its
    // wall-clock bound, which the caller's timer alone cannot do.
    guest: stub.getEntrypoint<ComponentGuest>(undefined, { limits: { cpuMs: options.cpuLimitMs } }),
    report,
    markWarm: () => knownWorkers.add(id),
  };
}

/** The last background preparation queued in this isolate: each waits for the one before. */
let backgroundTurn: Promise<unknown> = Promise.resolve();

/**
 * Makes sure a stored component's artifacts for this runtime are in R2, transpiling it when they
 * are not, so that its first run only reads them (call it at upload or registration, in the
 * background). Preparations in one isolate run one at a time: a transpile holds the thread and
 * hundreds of MB of memory, and several at once (a service with many components, a burst of
 * uploads) starved the runs sharing the isolate. Resolves once the artifacts are written.
 * @throws ExecutionError component-missing (bytes not stored) or instantiate (jco refused it)
 */
export function prepareComponent(
  env: Pick<Env, "COMPONENTS">,
  digest: string,
): Promise<{ transpiled: boolean; transpileMs?: number }> {
  // The one before may belong to a request that is gone (await-shared.ts): waited for, within reason.
  const turn = awaitShared(backgroundTurn, ARTIFACTS_PATIENCE_MS * 2, async () => undefined).then(() =>
    prepareNow(env, digest),
  );
  backgroundTurn = turn.catch(() => undefined);
  return turn;
}

/**
 * Prepares components after the response (waitUntil), one at a time (see prepareComponent); a
 * failure is only logged, since the first run transpiles again and reports it. Never throws.
 */
export function prepareInBackground(env: Pick<Env, "COMPONENTS">, digests: Iterable<string>, reason: string): void {
  for (const digest of new Set(digests)) {
    waitUntil(
      prepareComponent(env, digest).catch((e: unknown) =>
        log("warn", "background transpile failed", { subsys: "execute", digest, reason, error: describeError(e) }),
      ),
    );
  }
}

async function prepareNow(
  env: Pick<Env, "COMPONENTS">,
  digest: string,
): Promise<{ transpiled: boolean; transpileMs?: number }> {
  // checked at its turn: a run may have transpiled it while this waited
  if (await env.COMPONENTS.head(artifactsKey(digest))) return { transpiled: false };
  const report: LoadReport = { loaded: false, transpiled: false, stagesMs: {} };
  try {
    await getArtifactsOnce(env, digest, report);
  } catch (e) {
    throw asExecutionError(e, digest);
  }
  await report.pendingWrite;
  return { transpiled: report.transpiled, transpileMs: report.transpileMs };
}

function getArtifactsOnce(
  env: Pick<Env, "COMPONENTS">,
  digest: string,
  report: LoadReport,
): Promise<ComponentArtifacts> {
  return sharedArtifactReads(digest, () => getArtifacts(env, digest, report));
}

async function getArtifacts(
  env: Pick<Env, "COMPONENTS">,
  digest: string,
  report: LoadReport,
): Promise<ComponentArtifacts> {
  report.artifactsRead = true;
  let mark = Date.now();
  const lap = (stage: string): void => {
    const now = Date.now();
    report.stagesMs[stage] = now - mark;
    mark = now;
  };
  const cached = await env.COMPONENTS.get(artifactsKey(digest));
  if (cached) {
    try {
      const artifacts = unpackArtifacts(new Uint8Array(await cached.arrayBuffer()));
      lap("artifactsRead");
      return artifacts;
    } catch {
      // unreadable cache entry: transpile again and overwrite it
    }
  }
  lap("artifactsMiss");
  const object = await env.COMPONENTS.get(componentKey(digest));
  if (!object) {
    throw new ExecutionError(
      "component-missing",
      `component ${digest} is not stored (expected R2 key ${componentKey(digest)})`,
      {
        digest,
      },
    );
  }
  const bytes = new Uint8Array(await object.arrayBuffer());
  lap("componentRead");
  const started = Date.now();
  let artifacts: ComponentArtifacts;
  try {
    artifacts = await transpileComponent(bytes);
  } catch (e) {
    throw new ExecutionError("instantiate", `could not transpile component ${digest}: ${errorText(e)}`, {
      digest,
      cause: e,
    });
  }
  report.transpiled = true;
  report.transpileMs = Date.now() - started;
  lap("transpile");
  report.pendingWrite = env.COMPONENTS.put(artifactsKey(digest), packArtifacts(artifacts)).then(
    () => lap("artifactsWrite"),
    // not fatal: the next cold load transpiles again
    () => undefined,
  );
  return artifacts;
}

function toWorkerCode(a: ComponentArtifacts, gate: Fetcher | null): WorkerLoaderWorkerCode {
  const modules: Record<string, WorkerLoaderModule | string> = {
    "main.js": { js: guestSource },
    "component.js": { js: a.js },
    "core-modules.js": { js: coreModulesSource(Object.keys(a.coreModules)) },
    "component-info.js": { js: `export default ${JSON.stringify({ imports: a.imports, jspi: a.jspi })};\n` },
  };
  for (const [name, bytes] of [...Object.entries(a.coreModules), ...Object.entries(a.inlineModules)]) {
    modules[name] = { wasm: toArrayBuffer(bytes) };
  }
  return {
    compatibilityDate: GUEST_COMPATIBILITY_DATE,
    mainModule: "main.js",
    modules,
    // Nothing is granted: no bindings, no secrets. Per-run data and storage arrive with the call;
    // the network only through the gate of the worker's allowed_http_hosts, or not at all.
    env: {},
    globalOutbound: gate,
  };
}

/** A module mapping jco's core module names to the compiled modules the loader provides. */
function coreModulesSource(names: string[]): string {
  const lines = names.map((name, i) => `import m${i} from ${JSON.stringify(`./${name}`)};`);
  const entries = names.map((name, i) => `${JSON.stringify(name)}: m${i}`);
  return `${lines.join("\n")}\nexport default { ${entries.join(", ")} };\n`;
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

function asExecutionError(e: unknown, digest: string): ExecutionError {
  if (e instanceof ExecutionError) return e;
  return new ExecutionError("instantiate", `could not prepare component ${digest}: ${errorText(e)}`, {
    digest,
    cause: e,
  });
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
