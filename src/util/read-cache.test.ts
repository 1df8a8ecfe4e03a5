import { describe, expect, it } from "vitest";
import { createReadCache } from "./read-cache";

describe("createReadCache", () => {
  it("serves a found value until its TTL passes, then reads again", async () => {
    let now = 1_000;
    let reads = 0;
    const cache = createReadCache<number>(500, { clock: () => now });
    const load = async () => ++reads;
    expect(await cache.read("a", load)).toBe(1);
    now += 499;
    expect(await cache.read("a", load)).toBe(1);
    now += 1;
    expect(await cache.read("a", load)).toBe(2);
  });

  it("keeps no miss: a value stored a moment later is found", async () => {
    let value: string | undefined;
    const cache = createReadCache<string>(60_000);
    expect(await cache.read("k", async () => value)).toBeUndefined();
    value = "registered";
    expect(await cache.read("k", async () => value)).toBe("registered");
  });

  it("does not store a read that was in flight when forget() ran", async () => {
    const cache = createReadCache<string>(60_000);
    let release!: () => void;
    const slow = cache.read("k", () => new Promise<string>((r) => (release = () => r("old"))));
    cache.forget();
    release();
    expect(await slow).toBe("old");
    expect(await cache.read("k", async () => "new")).toBe("new");
  });
});

describe("createReadCache, lookups at once", () => {
  it("reads once for lookups that miss at the same time, and anew after forget()", async () => {
    let reads = 0;
    const cache = createReadCache<number>(60_000);
    const load = async () => {
      reads++;
      await new Promise((r) => setTimeout(r, 5));
      return reads;
    };
    expect(await Promise.all([cache.read("a", load), cache.read("a", load), cache.read("a", load)])).toEqual([1, 1, 1]);
    const before = cache.read("a", load);
    cache.forget();
    expect(await Promise.all([before, cache.read("a", load)])).toEqual([1, 2]);
  });
});

describe("createReadCache, a read whose request went away", () => {
  it("waits for another request's read at most its patience, then reads itself", async () => {
    const cache = createReadCache<string>(60_000, { patienceMs: 20 });
    // Never settles, as a read whose request was dropped.
    void cache.read("k", () => new Promise<string>(() => {}));
    const started = Date.now();
    expect(await cache.read("k", async () => "own")).toBe("own");
    expect(Date.now() - started).toBeLessThan(5_000);
    // The hung read is no longer waited for: the next lookup finds what the own read stored.
    expect(await cache.read("k", async () => "again")).toBe("own");
  });
});
