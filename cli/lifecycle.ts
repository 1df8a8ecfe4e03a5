/**
 * How the CLI ends: on SIGINT, SIGTERM or SIGHUP, or when the process that started it dies, it runs
 * its registered cleanups (bounded) and exits, and its `exit` handlers kill the children it spawned
 * (anvil, wrangler dev, builds). Without this a parent that gives up on the CLI leaves it running.
 */

type Cleanup = () => Promise<void> | void;

const cleanups = new Set<Cleanup>();
let installed = false;
let shuttingDown = false;

/** Longest a cleanup may take before the process exits anyway. */
export const CLEANUP_TIMEOUT_MS = 10_000;
/** How often the parent is checked for: a dead parent's child is handed to init (or a subreaper). */
const PARENT_POLL_MS = 1_000;

const SIGNAL_CODES = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;

/** Registers work to do before exiting on a signal or the parent's death; returns its unregistration. */
export function onShutdown(cleanup: Cleanup): () => void {
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

/** Runs every cleanup (at most CLEANUP_TIMEOUT_MS in all), then exits with `code`. */
export async function shutdown(code: number, reason: string): Promise<never> {
  if (shuttingDown) return new Promise<never>(() => {});
  shuttingDown = true;
  if (reason) process.stderr.write(`${reason}\n`);
  const all = Promise.allSettled([...cleanups].map(async (c) => c()));
  const timer = new Promise((r) => setTimeout(r, CLEANUP_TIMEOUT_MS).unref());
  await Promise.race([all, timer]);
  process.exit(code);
}

/**
 * Installs the signal handlers and the parent watch once. Idempotent.
 * @param parentPid the parent to outlive no longer than PARENT_POLL_MS (default: the current ppid)
 */
export function installLifecycle(parentPid = process.ppid): void {
  if (installed) return;
  installed = true;
  for (const [signal, code] of Object.entries(SIGNAL_CODES)) {
    process.on(signal, () => void shutdown(code, shuttingDown ? "" : `stopping (${signal})…`));
  }
  const watch = setInterval(() => {
    if (process.ppid !== parentPid) void shutdown(1, "error: the parent process is gone; stopping");
  }, PARENT_POLL_MS);
  watch.unref();
}
