/** Bounds on what a component may store, so one service cannot exhaust its Durable Object. */

import { WavsError } from "../../util/errors";

/** Keys per list-keys page (WAVS pages only when configured to; one unbounded page could not cross RPC). */
export const KEY_PAGE_SIZE = 1000;
/** Largest value (SQLite rows in a Durable Object hold at most 2 MB). */
export const MAX_VALUE_BYTES = 1024 * 1024;
/** Longest bucket name or key, in UTF-16 code units. */
export const MAX_KEY_LENGTH = 1024;
/** Most keys in one batch call. */
export const MAX_BATCH = 1000;

/** A keyvalue call outside the limits; the component sees it as `error::other(message)`. */
export class KeyValueLimitError extends WavsError {
  override readonly name = "KeyValueLimitError";
  constructor(message: string) {
    super("keyvalue_limit", message);
  }
}

/** @throws KeyValueLimitError when the bucket name or key is too long */
export function checkKey(bucket: string, key: string): void {
  if (bucket.length > MAX_KEY_LENGTH)
    throw new KeyValueLimitError(`bucket name longer than ${MAX_KEY_LENGTH} characters`);
  if (key.length > MAX_KEY_LENGTH) throw new KeyValueLimitError(`key longer than ${MAX_KEY_LENGTH} characters`);
}

/** @throws KeyValueLimitError when the value is too large */
export function checkValue(value: Uint8Array): void {
  if (value.byteLength > MAX_VALUE_BYTES) {
    throw new KeyValueLimitError(`value of ${value.byteLength} bytes exceeds the ${MAX_VALUE_BYTES}-byte limit`);
  }
}

/** @throws KeyValueLimitError when a batch names too many keys */
export function checkBatch(count: number): void {
  if (count > MAX_BATCH) throw new KeyValueLimitError(`batch of ${count} keys exceeds the ${MAX_BATCH}-key limit`);
}

/** Per-service key-value quota when KEYVALUE_QUOTA_BYTES is unset or not a positive whole number. */
export const DEFAULT_KEYVALUE_QUOTA_BYTES = 100 * 1024 * 1024;

/** KEYVALUE_QUOTA_BYTES: bytes of buckets, keys and values (plain and counters) one service may hold. */
export function keyValueQuotaBytes(raw: string | undefined): number {
  const n = Number(raw?.trim() || NaN);
  return Number.isSafeInteger(n) && n > 0 ? n : DEFAULT_KEYVALUE_QUOTA_BYTES;
}
