/**
 * Waiting on work another request started (a read in flight that concurrent callers share).
 *
 * On Workers a request's pending I/O is dropped when its client goes away (a peer that stopped
 * waiting for its POST, an indexer's timeout), so a promise another request started may never
 * settle, and whoever awaits it would hang for good: a queue consumer's whole batch with it, and
 * the local queue behind that batch (seen in a 2,000-event burst: one node's intake stopped). A
 * caller therefore waits for someone else's promise at most `patienceMs`, then does the work itself.
 */

/** How long a caller waits for an RPC read another request started before reading itself. */
export const SHARED_READ_PATIENCE_MS = 5_000;

/**
 * `shared`'s outcome if it settles within `patienceMs`, else `ownWork()`'s. A rejection of
 * `shared` within the wait is the caller's too.
 */
export function awaitShared<T>(shared: Promise<T>, patienceMs: number, ownWork: () => Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const gaveUp = new Promise<"gave-up">((resolve) => {
    timer = setTimeout(() => resolve("gave-up"), patienceMs);
  });
  return Promise.race([shared.then((value) => ({ value })), gaveUp])
    .finally(() => timer !== undefined && clearTimeout(timer))
    .then((won) => (won === "gave-up" ? ownWork() : won.value));
}

/** `work`'s outcome, or a rejection with `overdue()` once it has run `ms` (it is not stopped). */
export function withDeadline<T>(work: Promise<T>, ms: number, overdue: () => Error): Promise<T> {
  return awaitShared(work, ms, () => Promise.reject(overdue()));
}

/**
 * One read per key in flight in this isolate: a caller finding one under way waits for it at most
 * `patienceMs` (awaitShared), then reads itself (and later callers share that read).
 */
export function createSharedReads<T>(patienceMs: number): (key: string, read: () => Promise<T>) => Promise<T> {
  const inFlight = new Map<string, Promise<T>>();
  return (key, read) => {
    const readNow = () => {
      const reading: Promise<T> = read().finally(() => inFlight.get(key) === reading && inFlight.delete(key));
      inFlight.set(key, reading);
      return reading;
    };
    const pending = inFlight.get(key);
    return pending ? awaitShared(pending, patienceMs, readNow) : readNow();
  };
}
