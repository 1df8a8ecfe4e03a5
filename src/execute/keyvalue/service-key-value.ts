/**
 * ServiceKeyValue Durable Object: one per service (named by its service id), holding the
 * wasi:keyvalue@0.2.0-draft2 data of every component the service runs. A Durable Object runs one
 * method at a time, so increment, compare-and-swap and the batch calls are atomic, and concurrent
 * executions of the service's components see each other's writes at once.
 *
 * WAVS's semantics: buckets are plain names (open never fails), a missing key reads as none and
 * deletes as a no-op, atomic counters live apart from the plain values (`get` does not see them),
 * and `list-keys` pages in key order with a cursor that is the first key of the next page.
 * Unlike WAVS (which swaps unconditionally) a CAS swap fails when the value changed since the CAS
 * handle was made, as the draft2 WIT describes; and unlike WAVS's in-memory store nothing is lost
 * on restart.
 *
 * The same object keeps the service's directory for components granted file_system (WAVS gives
 * each service a directory on the node's disk): files are read whole at the start of a run and
 * written back whole when the run changed them.
 */
import { DurableObject } from "cloudflare:workers";
import { checkFileRows, type FileRow } from "../host/service-files";
import {
  KeyValueLimitError,
  checkBatch,
  checkKey,
  checkValue,
  KEY_PAGE_SIZE,
  keyValueQuotaBytes,
} from "./keyvalue-limits";

export interface KeyPage {
  keys: string[];
  /** the first key of the next page; null on the last page */
  cursor: string | null;
}

/** One stored item as `GET /dev/kv/{service_id}` lists it: a value by size, a counter by its value. */
export type StoredEntry =
  | { bucket: string; key: string; kind: "value"; size: number }
  | { bucket: string; key: string; kind: "counter"; value: string };

/** Where a listing page starts: just after this (bucket, key, kind). */
export interface EntryCursor {
  bucket: string;
  key: string;
  kind: StoredEntry["kind"];
}

/** A directory entry without its bytes, for `GET /dev/fs/{service_id}`. */
export interface FileInfo {
  path: string;
  kind: FileRow["kind"];
  /** bytes of a file; null for directories and symlinks */
  size: number | null;
  /** a symlink's target; null otherwise */
  target: string | null;
}

/** What a swap answers: `swapped: false` carries the value found instead of the expected one. */
export type SwapOutcome = { swapped: true } | { swapped: false; current: Uint8Array | null };

const S64_MIN = -(2n ** 63n);
const S64_MAX = 2n ** 63n - 1n;

/** Bytes per stored chunk of a file_system file (under the 2 MB a Durable Object's SQLite row holds). */
const FILE_CHUNK_BYTES = 1024 * 1024;

export class ServiceKeyValue extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  /** Bytes held (buckets, keys, values, counters), counted once then kept up to date; undefined: recount. */
  private used: number | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(
      `CREATE TABLE IF NOT EXISTS kv_values (bucket TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, PRIMARY KEY (bucket, key)) WITHOUT ROWID;
       CREATE TABLE IF NOT EXISTS kv_counters (bucket TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (bucket, key)) WITHOUT ROWID;
       CREATE TABLE IF NOT EXISTS fs_entries (seq INTEGER PRIMARY KEY, path TEXT NOT NULL, kind TEXT NOT NULL, data BLOB, target TEXT);
       CREATE TABLE IF NOT EXISTS fs_chunks (seq INTEGER NOT NULL, part INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (seq, part)) WITHOUT ROWID;`,
    );
  }

  /** The value under `key`, or null. @throws KeyValueLimitError on an oversized key */
  get(bucket: string, key: string): Uint8Array | null {
    checkKey(bucket, key);
    return this.read(bucket, key);
  }

  /** @throws KeyValueLimitError on an oversized key or value */
  set(bucket: string, key: string, value: Uint8Array): void {
    checkKey(bucket, key);
    checkValue(value);
    this.write(bucket, key, value);
  }

  /** Removes `key`; a missing key is not an error. */
  delete(bucket: string, key: string): void {
    checkKey(bucket, key);
    this.sql.exec("DELETE FROM kv_values WHERE bucket = ? AND key = ?", bucket, key);
    this.used = undefined;
  }

  exists(bucket: string, key: string): boolean {
    checkKey(bucket, key);
    return this.sql.exec("SELECT 1 FROM kv_values WHERE bucket = ? AND key = ?", bucket, key).toArray().length > 0;
  }

  /** One page of the bucket's keys in byte order, from `cursor` (inclusive) on. */
  listKeys(bucket: string, cursor: string | null): KeyPage {
    const rows = this.sql
      .exec<{ key: string }>(
        "SELECT key FROM kv_values WHERE bucket = ? AND key >= ? ORDER BY key LIMIT ?",
        bucket,
        cursor ?? "",
        KEY_PAGE_SIZE + 1,
      )
      .toArray();
    const keys = rows.map((r) => r.key);
    const next = keys.length > KEY_PAGE_SIZE ? keys.pop()! : null;
    return { keys, cursor: next };
  }

  /**
   * Adds `delta` to the counter under `key` (0 when missing) and answers the new value.
   * @throws KeyValueLimitError when the result leaves the s64 range
   */
  increment(bucket: string, key: string, delta: bigint): bigint {
    checkKey(bucket, key);
    const row = this.sql
      .exec<{ value: string }>("SELECT value FROM kv_counters WHERE bucket = ? AND key = ?", bucket, key)
      .toArray()[0];
    const next = (row ? BigInt(row.value) : 0n) + BigInt(delta);
    if (next < S64_MIN || next > S64_MAX)
      throw new KeyValueLimitError(`increment of ${key} overflows a signed 64-bit counter`);
    this.reserve(row ? next.toString().length - row.value.length : bucket.length + key.length + next.toString().length);
    this.sql.exec(
      "INSERT INTO kv_counters (bucket, key, value) VALUES (?, ?, ?) ON CONFLICT (bucket, key) DO UPDATE SET value = excluded.value",
      bucket,
      key,
      next.toString(),
    );
    return next;
  }

  /** Writes `value` only when the stored value still equals `expected` (null: absent). */
  swap(bucket: string, key: string, expected: Uint8Array | null, value: Uint8Array): SwapOutcome {
    checkKey(bucket, key);
    checkValue(value);
    const current = this.read(bucket, key);
    if (!sameBytes(current, expected)) return { swapped: false, current };
    this.write(bucket, key, value);
    return { swapped: true };
  }

  /** The values of `keys` in order, null for each missing one. */
  getMany(bucket: string, keys: string[]): (Uint8Array | null)[] {
    checkBatch(keys.length);
    for (const key of keys) checkKey(bucket, key);
    return keys.map((key) => this.read(bucket, key));
  }

  /** Writes every pair, all or nothing. */
  setMany(bucket: string, entries: [string, Uint8Array][]): void {
    checkBatch(entries.length);
    for (const [key, value] of entries) {
      checkKey(bucket, key);
      checkValue(value);
    }
    try {
      this.ctx.storage.transactionSync(() => {
        for (const [key, value] of entries) this.write(bucket, key, value);
      });
    } catch (e) {
      this.used = undefined; // rolled back: count again
      throw e;
    }
  }

  /** Deletes every key, all or nothing; missing keys are skipped. */
  deleteMany(bucket: string, keys: string[]): void {
    checkBatch(keys.length);
    for (const key of keys) checkKey(bucket, key);
    this.ctx.storage.transactionSync(() => {
      for (const key of keys) this.sql.exec("DELETE FROM kv_values WHERE bucket = ? AND key = ?", bucket, key);
    });
    this.used = undefined;
  }

  /**
   * One page of every value and counter, in (bucket, key) order, optionally of one bucket only;
   * `next` is the cursor of the following page, null on the last.
   */
  listEntries(bucket: string | null, after: EntryCursor | null): { entries: StoredEntry[]; next: EntryCursor | null } {
    const { bucket: afterBucket, key: afterKey, kind: afterKind } = after ?? { bucket: "", key: "", kind: "" };
    const rows = this.sql
      .exec<{ bucket: string; key: string; kind: "value" | "counter"; size: number | null; counter: string | null }>(
        `SELECT * FROM (
           SELECT bucket, key, 'value' AS kind, length(value) AS size, NULL AS counter FROM kv_values
           UNION ALL SELECT bucket, key, 'counter' AS kind, NULL AS size, value AS counter FROM kv_counters)
         WHERE (?1 IS NULL OR bucket = ?1) AND (bucket, key, kind) > (?2, ?3, ?4)
         ORDER BY bucket, key, kind LIMIT ?5`,
        bucket,
        afterBucket,
        afterKey,
        afterKind,
        KEY_PAGE_SIZE + 1,
      )
      .toArray();
    const more = rows.length > KEY_PAGE_SIZE;
    const entries = rows
      .slice(0, KEY_PAGE_SIZE)
      .map(
        (r): StoredEntry =>
          r.kind === "value"
            ? { bucket: r.bucket, key: r.key, kind: "value", size: r.size ?? 0 }
            : { bucket: r.bucket, key: r.key, kind: "counter", value: r.counter ?? "0" },
      );
    const last = entries.at(-1);
    return { entries, next: more && last ? { bucket: last.bucket, key: last.key, kind: last.kind } : null };
  }

  /** The service's directory without file bytes, parents before children. */
  listFiles(): FileInfo[] {
    return this.sql
      .exec<{ path: string; kind: FileRow["kind"]; size: number | null; target: string | null }>(
        `SELECT path, kind, target, CASE kind WHEN 'file' THEN
           COALESCE(length(data), (SELECT SUM(length(c.data)) FROM fs_chunks c WHERE c.seq = fs_entries.seq)) END AS size
         FROM fs_entries ORDER BY seq`,
      )
      .toArray()
      .map((r) => ({ path: r.path, kind: r.kind, size: r.size ?? (r.kind === "file" ? 0 : null), target: r.target }));
  }

  /** The bytes of the file at `path`, or null when there is no such file. */
  readFile(path: string): Uint8Array | null {
    const row = this.sql
      .exec<{ seq: number; data: ArrayBuffer | null }>(
        "SELECT seq, data FROM fs_entries WHERE path = ? AND kind = 'file'",
        path,
      )
      .toArray()[0];
    return row ? this.fileData(row) : null;
  }

  /** The service's directory, parents before children. */
  readFiles(): FileRow[] {
    return this.sql
      .exec<{ seq: number; path: string; kind: string; data: ArrayBuffer | null; target: string | null }>(
        "SELECT seq, path, kind, data, target FROM fs_entries ORDER BY seq",
      )
      .toArray()
      .map(
        (r): FileRow =>
          r.kind === "dir"
            ? { path: r.path, kind: "dir" }
            : r.kind === "symlink"
              ? { path: r.path, kind: "symlink", target: r.target ?? "" }
              : { path: r.path, kind: "file", data: this.fileData(r) },
      );
  }

  /**
   * Replaces the service's directory, all or nothing. File bytes are kept in chunks of
   * FILE_CHUNK_BYTES: a SQLite row in a Durable Object holds at most 2 MB.
   * @throws KeyValueLimitError when it holds too many entries or bytes
   */
  writeFiles(rows: FileRow[]): void {
    const refusal = checkFileRows(rows);
    if (refusal) throw new KeyValueLimitError(refusal);
    this.ctx.storage.transactionSync(() => {
      this.sql.exec("DELETE FROM fs_entries");
      this.sql.exec("DELETE FROM fs_chunks");
      rows.forEach((r, seq) => {
        this.sql.exec(
          "INSERT INTO fs_entries (seq, path, kind, data, target) VALUES (?, ?, ?, NULL, ?)",
          seq,
          r.path,
          r.kind,
          r.kind === "symlink" ? r.target : null,
        );
        if (r.kind !== "file") return;
        for (let part = 0; part * FILE_CHUNK_BYTES < r.data.byteLength; part++) {
          const chunk = r.data.slice(part * FILE_CHUNK_BYTES, (part + 1) * FILE_CHUNK_BYTES);
          this.sql.exec("INSERT INTO fs_chunks (seq, part, data) VALUES (?, ?, ?)", seq, part, chunk.buffer);
        }
      });
    });
  }

  /** A file's bytes: inline in its entry (as written before chunking) or in its chunks. */
  private fileData(row: { seq: number; data: ArrayBuffer | null }): Uint8Array {
    if (row.data !== null) return new Uint8Array(row.data);
    const chunks = this.sql
      .exec<{ data: ArrayBuffer }>("SELECT data FROM fs_chunks WHERE seq = ? ORDER BY part", row.seq)
      .toArray()
      .map((c) => new Uint8Array(c.data));
    const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
    let offset = 0;
    for (const c of chunks) {
      out.set(c, offset);
      offset += c.byteLength;
    }
    return out;
  }

  private read(bucket: string, key: string): Uint8Array | null {
    const row = this.sql
      .exec<{ value: ArrayBuffer }>("SELECT value FROM kv_values WHERE bucket = ? AND key = ?", bucket, key)
      .toArray()[0];
    return row ? new Uint8Array(row.value) : null;
  }

  /** Bytes stored now, counted from the tables the first time. */
  private usedBytes(): number {
    if (this.used === undefined) {
      const row = this.sql
        .exec<{ n: number }>(
          `SELECT coalesce((SELECT sum(length(bucket) + length(key) + length(value)) FROM kv_values), 0)
                + coalesce((SELECT sum(length(bucket) + length(key) + length(value)) FROM kv_counters), 0) AS n`,
        )
        .toArray()[0];
      this.used = Number(row?.n ?? 0);
    }
    return this.used;
  }

  /**
   * Counts `delta` more bytes against the service's quota (KEYVALUE_QUOTA_BYTES).
   * @throws KeyValueLimitError when the store would grow past it (shrinking is always allowed)
   */
  private reserve(delta: number): void {
    const quota = keyValueQuotaBytes(this.env.KEYVALUE_QUOTA_BYTES);
    const after = this.usedBytes() + delta;
    if (delta > 0 && after > quota) {
      throw new KeyValueLimitError(
        `the service's key-value store would hold ${after} bytes, over its quota of ${quota} bytes (KEYVALUE_QUOTA_BYTES)`,
      );
    }
    this.used = after;
  }

  private write(bucket: string, key: string, value: Uint8Array): void {
    const old = this.sql
      .exec<{ n: number }>("SELECT length(value) AS n FROM kv_values WHERE bucket = ? AND key = ?", bucket, key)
      .toArray()[0];
    this.reserve(old ? value.byteLength - Number(old.n) : bucket.length + key.length + value.byteLength);
    this.sql.exec(
      "INSERT INTO kv_values (bucket, key, value) VALUES (?, ?, ?) ON CONFLICT (bucket, key) DO UPDATE SET value = excluded.value",
      bucket,
      key,
      // SQLite binds an ArrayBuffer as a BLOB; copy exactly the view's bytes
      value.slice().buffer,
    );
  }
}

function sameBytes(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
