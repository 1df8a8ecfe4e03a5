import { awaitShared, SHARED_READ_PATIENCE_MS } from "./await-shared";

/**
 * A per-isolate cache of what is read per event and changes rarely (the service registry's rows,
 * the chains added at run time), so that an event costs no D1 round trip for it. The module that
 * writes such rows calls `forget()`, so the writing isolate sees its write at once; other isolates
 * see it within the TTL. Only what was found is kept: a row stored a moment ago is never hidden by
 * a cached miss.
 */
export interface ReadCache<T> {
  /** The value read at most `ttlMs` ago, or `load()`'s (kept unless `forget()` ran meanwhile). */
  read(key: string, load: () => Promise<T | undefined>): Promise<T | undefined>;
  /** Drops every entry, and keeps a read in flight from storing what it read before. */
  forget(): void;
}

/** Options of createReadCache; the defaults suit D1 reads. */
export interface ReadCacheOptions {
  /** Entries kept at most; past that the cache is emptied (few keys: no LRU is worth its code). */
  maxEntries?: number;
  /** How long a lookup waits for a read another request started before reading itself (await-shared.ts). */
  patienceMs?: number;
  clock?: () => number;
}

/**
 * A per-isolate cache of found values by key, each kept `ttlMs` (Infinity: until `forget()`). One
 * read per key at a time: at 20 events/s an expired entry was otherwise read by every lookup in
 * flight at that moment (three times the reads a 1 s TTL should cost). A read another request
 * started is waited for at most `patienceMs` (its request may be gone, and its promise never
 * settle); past that the next lookup starts a read of its own.
 */
export function createReadCache<T>(ttlMs: number, options: ReadCacheOptions = {}): ReadCache<T> {
  const { maxEntries = 1024, patienceMs = SHARED_READ_PATIENCE_MS, clock = Date.now } = options;
  const entries = new Map<string, { at: number; value: T }>();
  const inFlight = new Map<string, { since: number; reading: Promise<T | undefined> }>();
  // Bumped by forget(): a read that started before a write must not store the row it read.
  let generation = 0;

  async function readAndKeep(key: string, load: () => Promise<T | undefined>): Promise<T | undefined> {
    const started = generation;
    const at = clock();
    const reading = load().then((value) => {
      if (value !== undefined && started === generation) {
        if (entries.size >= maxEntries) entries.clear();
        entries.set(key, { at, value });
      }
      return value;
    });
    inFlight.set(key, { since: at, reading });
    try {
      return await reading;
    } finally {
      if (inFlight.get(key)?.reading === reading) inFlight.delete(key);
    }
  }

  return {
    async read(key, load) {
      const hit = entries.get(key);
      if (hit && clock() - hit.at < ttlMs) return hit.value;
      const shared = inFlight.get(key);
      if (shared && clock() - shared.since < patienceMs) {
        return awaitShared(shared.reading, patienceMs, () => readAndKeep(key, load));
      }
      return readAndKeep(key, load);
    },
    forget() {
      generation++;
      entries.clear();
      inFlight.clear();
    },
  };
}
