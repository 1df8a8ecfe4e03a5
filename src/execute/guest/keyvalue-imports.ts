/**
 * wasi:keyvalue@0.2.0-draft2 (store, atomics, batch) for one component instance, over the
 * node's ComponentHost (an RPC stub). Every call that reaches storage returns a promise, which
 * jco's JSPI bindings await (see async-mode.ts), so the component sees synchronous calls.
 * A failed call is the WIT `error` variant, thrown as a plain value (jco's `err`).
 */
import type { ComponentHostApi } from "../host/component-host";

type KvError = { tag: "no-such-store" } | { tag: "access-denied" } | { tag: "other"; val: string };

/** Runs a host call, turning any failure into `error::other` with the failure's message. */
async function attempt<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    throw { tag: "other", val: e instanceof Error ? e.message : String(e) } satisfies KvError;
  }
}

/** The three interfaces, keyed as jco's instantiation imports expect. */
export function createKeyValueImports(host: ComponentHostApi) {
  class Bucket {
    readonly name: string;
    constructor(name: string) {
      this.name = name;
    }
    async get(key: string): Promise<Uint8Array | undefined> {
      return (await attempt(() => host.kvGet(this.name, key))) ?? undefined;
    }
    set(key: string, value: Uint8Array): Promise<void> {
      return attempt(() => host.kvSet(this.name, key, value));
    }
    delete(key: string): Promise<void> {
      return attempt(() => host.kvDelete(this.name, key));
    }
    exists(key: string): Promise<boolean> {
      return attempt(() => host.kvExists(this.name, key));
    }
    async listKeys(cursor: string | undefined): Promise<{ keys: string[]; cursor: string | undefined }> {
      const page = await attempt(() => host.kvListKeys(this.name, cursor ?? null));
      return { keys: page.keys, cursor: page.cursor ?? undefined };
    }
  }

  /** A compare-and-swap handle: the value read when it was made is what swap expects to find. */
  class Cas {
    readonly bucket: string;
    readonly key: string;
    readonly expected: Uint8Array | null;
    constructor(bucket: string, key: string, expected: Uint8Array | null) {
      this.bucket = bucket;
      this.key = key;
      this.expected = expected;
    }
    static async new(bucket: Bucket, key: string): Promise<Cas> {
      return new Cas(bucket.name, key, await attempt(() => host.kvGet(bucket.name, key)));
    }
    current(): Uint8Array | undefined {
      return this.expected ?? undefined;
    }
  }

  return {
    "wasi:keyvalue/store": {
      Bucket,
      // As WAVS: any identifier names a bucket of the service's own namespace.
      open: (identifier: string) => new Bucket(identifier),
    },
    "wasi:keyvalue/atomics": {
      Cas,
      increment: (bucket: Bucket, key: string, delta: bigint) =>
        attempt(() => host.kvIncrement(bucket.name, key, delta)),
      async swap(cas: Cas, value: Uint8Array): Promise<void> {
        let outcome: Awaited<ReturnType<typeof host.kvSwap>>;
        try {
          outcome = await host.kvSwap(cas.bucket, cas.key, cas.expected, value);
        } catch (e) {
          throw { tag: "store-error", val: { tag: "other", val: e instanceof Error ? e.message : String(e) } };
        }
        // cas-failed hands back a handle on the value found, so the component can retry with it
        if (!outcome.swapped) throw { tag: "cas-failed", val: new Cas(cas.bucket, cas.key, outcome.current) };
      },
    },
    "wasi:keyvalue/batch": {
      async getMany(bucket: Bucket, keys: string[]): Promise<([string, Uint8Array] | undefined)[]> {
        const values = await attempt(() => host.kvGetMany(bucket.name, keys));
        return values.map((value, i) => (value === null ? undefined : [keys[i]!, value]));
      },
      setMany: (bucket: Bucket, entries: [string, Uint8Array][]) => attempt(() => host.kvSetMany(bucket.name, entries)),
      deleteMany: (bucket: Bucket, keys: string[]) => attempt(() => host.kvDeleteMany(bucket.name, keys)),
    },
  };
}
