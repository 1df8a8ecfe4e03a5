/**
 * Counters kept in the isolate's memory: what the node does per event (D1 statements, requests
 * between nodes, peer submissions refused), cheap enough to count on every call. They start at
 * zero when the isolate starts (a Prometheus counter reset); locally one isolate runs the Worker
 * and its Durable Objects, so they cover the whole node. `bench:e2e` reads them at GET /dev/counters.
 */

const counts = new Map<string, number>();

/** Adds `n` to the counter `name` (labels folded into the name, e.g. `submissions_refused:invalid_signature`). */
export function countIn(name: string, n = 1): void {
  counts.set(name, (counts.get(name) ?? 0) + n);
}

/** Every counter, sorted by name. */
export function readIsolateCounters(): Record<string, number> {
  return Object.fromEntries([...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * The D1 binding with every prepared statement counted (`d1_statements`); a batch counts the
 * statements it carries, as they were prepared.
 */
export function countingD1(d1: D1Database): D1Database {
  return new Proxy(d1, {
    get(target, prop) {
      if (prop === "prepare") {
        return (query: string) => {
          countIn("d1_statements");
          return target.prepare(query);
        };
      }
      if (prop === "exec") {
        return (query: string) => {
          countIn("d1_statements");
          return target.exec(query);
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
