/**
 * The per-service directory of file_system components as rows, so that the guest's in-memory
 * tree (preview2-shim's FileData) can cross RPC compactly and be stored in the service's Durable
 * Object: one row per directory, file or symlink, by path relative to the directory's root.
 */

/** preview2-shim's in-memory tree: a directory (`dir`), a file (`source`) or a symlink. */
export interface FileTree {
  dir?: Record<string, FileTree>;
  source?: Uint8Array | string;
  symlink?: string;
}

export type FileRow =
  | { path: string; kind: "dir" }
  | { path: string; kind: "file"; data: Uint8Array }
  | { path: string; kind: "symlink"; target: string };

/** Most bytes a service's directory may hold. */
export const MAX_FILE_BYTES = 16 * 1024 * 1024;
/** Most entries (files, directories, symlinks) a service's directory may hold. */
export const MAX_FILE_ENTRIES = 10_000;

/** Rows of a tree (the root itself excluded), parents before children; file bytes copied. */
export function flattenFileTree(root: FileTree): FileRow[] {
  const rows: FileRow[] = [];
  const walk = (dir: Record<string, FileTree>, prefix: string): void => {
    for (const [name, entry] of Object.entries(dir)) {
      const path = prefix ? `${prefix}/${name}` : name;
      if (entry.dir) {
        rows.push({ path, kind: "dir" });
        walk(entry.dir, path);
      } else if (entry.symlink !== undefined) {
        rows.push({ path, kind: "symlink", target: entry.symlink });
      } else {
        const source = entry.source ?? new Uint8Array();
        rows.push({
          path,
          kind: "file",
          data: typeof source === "string" ? new TextEncoder().encode(source) : source.slice(),
        });
      }
    }
  };
  walk(root.dir ?? {}, "");
  return rows;
}

/** The tree of rows (parents listed before their children, as flattenFileTree writes them). */
export function buildFileTree(rows: FileRow[]): FileTree {
  const root: FileTree = { dir: {} };
  for (const row of rows) {
    const parts = row.path.split("/");
    const name = parts.pop()!;
    let dir = root.dir!;
    for (const part of parts) {
      dir[part] ??= { dir: {} };
      dir = dir[part].dir ?? {};
    }
    dir[name] =
      row.kind === "dir"
        ? { dir: dir[name]?.dir ?? {} }
        : row.kind === "symlink"
          ? { symlink: row.target }
          : { source: row.data };
  }
  return root;
}

/** Why rows cannot be kept, or null. */
export function checkFileRows(rows: FileRow[]): string | null {
  if (rows.length > MAX_FILE_ENTRIES)
    return `the service's directory holds ${rows.length} entries, over the limit of ${MAX_FILE_ENTRIES}`;
  const bytes = rows.reduce((n, r) => n + (r.kind === "file" ? r.data.byteLength : 0), 0);
  if (bytes > MAX_FILE_BYTES)
    return `the service's directory holds ${bytes} bytes, over the limit of ${MAX_FILE_BYTES}`;
  return null;
}
