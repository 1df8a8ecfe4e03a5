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

/**
 * A per-isolate cache of found values by key, each kept `ttlMs` (Infinity: until `forget()`), at
 * most `maxEntries` (then emptied: the registry holds few services, so no LRU is worth its code).
 */
export function createReadCache<T>(ttlMs: number, maxEntries = 1024, clock: () => number = Date.now): ReadCache<T> {
  const entries = new Map<string, { at: number; value: T }>();
  // One read per key at a time: at 20 events/s an expired entry was otherwise read by every
  // lookup in flight at that moment (three times the reads a 1 s TTL should cost).
  const inFlight = new Map<string, Promise<T | undefined>>();
  // Bumped by forget(): a read that started before a write must not store the row it read.
  let generation = 0;
  return {
    async read(key, load) {
      const hit = entries.get(key);
      if (hit && clock() - hit.at < ttlMs) return hit.value;
      const shared = inFlight.get(key);
      if (shared) return shared;
      const started = generation;
      const at = clock();
      const reading = load().then((value) => {
        if (value !== undefined && started === generation) {
          if (entries.size >= maxEntries) entries.clear();
          entries.set(key, { at, value });
        }
        return value;
      });
      inFlight.set(key, reading);
      try {
        return await reading;
      } finally {
        if (inFlight.get(key) === reading) inFlight.delete(key);
      }
    },
    forget() {
      generation++;
      entries.clear();
      inFlight.clear();
    },
  };
}
