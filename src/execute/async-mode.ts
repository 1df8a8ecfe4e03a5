/**
 * Whether a component runs under JSPI, decided from its own imports. Under JSPI a synchronous WIT
 * import may await (a Durable Object RPC, a fetch, a timer), at the price of an async export call.
 * Without it, a component that waits (polls an HTTP response or a timer) spins until V8 runs out
 * of heap and takes workerd down (PLATFORM-NOTES.md), so every component that could wait gets it.
 */

/** Top-level imports (version stripped) after which a component may wait on the host. */
// (wasi:io/streams alone cannot wait: the streams that block, HTTP bodies, come with wasi:http)
const WAITING_IMPORTS = [/^wasi:io\/poll$/, /^wasi:http\//, /^wasi:keyvalue\//];

/** Imports that return a promise under JSPI: jco's WASI list (poll, blocking streams) plus keyvalue. */
const ASYNC_IMPORTS = [
  "wasi:io/poll#poll",
  "wasi:io/poll#[method]pollable.block",
  "wasi:io/streams#[method]input-stream.blocking-read",
  "wasi:io/streams#[method]input-stream.blocking-skip",
  "wasi:io/streams#[method]output-stream.blocking-flush",
  "wasi:io/streams#[method]output-stream.blocking-write-and-flush",
  "wasi:io/streams#[method]output-stream.blocking-write-zeroes-and-flush",
  "wasi:io/streams#[method]output-stream.blocking-splice",
  "wasi:keyvalue/store#[method]bucket.get",
  "wasi:keyvalue/store#[method]bucket.set",
  "wasi:keyvalue/store#[method]bucket.delete",
  "wasi:keyvalue/store#[method]bucket.exists",
  "wasi:keyvalue/store#[method]bucket.list-keys",
  "wasi:keyvalue/atomics#[static]cas.new",
  "wasi:keyvalue/atomics#increment",
  "wasi:keyvalue/atomics#swap",
  "wasi:keyvalue/batch#get-many",
  "wasi:keyvalue/batch#set-many",
  "wasi:keyvalue/batch#delete-many",
];

/** Every export the runtime calls (operator and aggregator worlds). */
const ASYNC_EXPORTS = ["run", "process-input", "handle-timer-callback", "handle-submit-callback"];

/** jco's `asyncMode` generate option. */
export type AsyncMode = { tag: "sync" } | { tag: "jspi"; val: { imports: string[]; exports: string[] } };

/** Picks jco's async mode for a component from its top-level import names (e.g. `wasi:io/poll@0.2.3`). */
export function chooseAsyncMode(imports: readonly string[]): AsyncMode {
  const waits = imports.some((name) => {
    const unversioned = name.replace(/@[^/]*$/, "");
    return WAITING_IMPORTS.some((pattern) => pattern.test(unversioned));
  });
  return waits ? { tag: "jspi", val: { imports: [...ASYNC_IMPORTS], exports: [...ASYNC_EXPORTS] } } : { tag: "sync" };
}
