import type { FileInfo } from "../execute/keyvalue/service-key-value";

/** Symlinks followed along one path at most, so a loop of links ends. */
const MAX_LINK_HOPS = 8;

/** Where a requested path leads in a service's directory. */
export type ResolvedPath =
  | { found: "root" }
  | { found: "entry"; entry: FileInfo }
  | { found: "missing" }
  | { found: "outside"; reason: string };

/**
 * Resolves `requested` (relative to the service's directory, `/`-separated) against the
 * directory's entries, as the node's disk would: `.` and `..` are applied and symlinks followed,
 * at any position. A path that climbs above the directory, or a link to an absolute path, is
 * `outside` (WAVS answers such a request "path traversal detected").
 */
export function resolveServicePath(entries: FileInfo[], requested: string): ResolvedPath {
  const byPath = new Map(entries.map((e) => [e.path, e]));
  let hops = 0;
  const resolved: string[] = [];
  const pending = requested.split("/").reverse();
  while (pending.length > 0) {
    const part = pending.pop()!;
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (resolved.length === 0) return { found: "outside", reason: "the path climbs above the service's directory" };
      resolved.pop();
      continue;
    }
    resolved.push(part);
    const entry = byPath.get(resolved.join("/"));
    if (!entry) return { found: "missing" };
    if (entry.kind !== "symlink") continue;
    if (++hops > MAX_LINK_HOPS) return { found: "missing" };
    const target = entry.target ?? "";
    if (target.startsWith("/")) return { found: "outside", reason: "a symlink on the path points to an absolute path" };
    // The link's own name is replaced by its target, read from the link's directory.
    resolved.pop();
    pending.push(...target.split("/").reverse());
  }
  if (resolved.length === 0) return { found: "root" };
  return { found: "entry", entry: byPath.get(resolved.join("/"))! };
}

/** The entries directly inside `dir` ("" for the root), as WAVS lists a directory. */
export function listDirectory(
  entries: FileInfo[],
  dir: string,
): { name: string; is_dir: boolean; size: number | null }[] {
  const prefix = dir === "" ? "" : `${dir}/`;
  return entries
    .filter((e) => e.path.startsWith(prefix) && !e.path.slice(prefix.length).includes("/"))
    .map((e) => ({
      name: e.path.slice(prefix.length),
      is_dir: e.kind === "dir",
      size: e.kind === "file" ? e.size : null,
    }));
}
