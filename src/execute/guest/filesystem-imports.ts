/**
 * wasi:filesystem for one component instance. file_system: false → no preopened directory at all.
 * true → the service's directory, preopened as `.` (as WAVS). The instance outlives a run (and
 * wasi-libc reads the preopens once), so the preopened tree stays the same object: before each
 * run its contents are replaced by the directory as the node stores it, and after the run, if the
 * run changed anything, the whole directory is written back. Overlapping runs of one service (in
 * other instances or isolates) each start from what was stored, and the last to finish wins.
 */
import * as filesystem from "@bytecodealliance/preview2-shim/filesystem";
import { _onTouch } from "@bytecodealliance/preview2-shim/in-memory-filesystem";
import type { ComponentHostApi } from "../host/component-host";
import { buildFileTree, flattenFileTree, type FileTree } from "../host/service-files";

export interface ServiceDirectory {
  fs: ReturnType<typeof filesystem.createFilesystem>;
  /** the preopened tree; null without file_system */
  tree: FileTree | null;
}

/** The filesystem imports of a new instance. */
export function createServiceDirectory(enabled: boolean): ServiceDirectory {
  const adapter = new filesystem.InMemoryFilesystemAdapter();
  const tree: FileTree | null = enabled ? { dir: {} } : null;
  return { fs: filesystem.createFilesystem({ adapter, preopens: tree ? { ".": tree } : {} }), tree };
}

/**
 * Loads the stored directory into the instance's tree for a run; answers the function that keeps
 * the run's changes (it rejects when the node refuses them, e.g. over the size limit).
 * @throws whatever reading the directory from the node throws
 */
export async function openServiceDirectory(
  directory: ServiceDirectory,
  host: ComponentHostApi,
): Promise<() => Promise<void>> {
  const tree = directory.tree;
  if (!tree) return async () => {};
  const stored = buildFileTree(await host.fsRead());
  tree.dir ??= {};
  const dir = tree.dir;
  for (const name of Object.keys(dir)) delete dir[name];
  Object.assign(dir, stored.dir);
  // the shim reports every mutation of any in-memory tree (other instances of this isolate may
  // run meanwhile): keep the touched entries and look for ours afterwards
  const touched = new Set<object>();
  const stop = _onTouch((entry: object) => touched.add(entry));
  return async () => {
    stop();
    if (touched.size > 0 && containsAny(tree, touched)) await host.fsWrite(flattenFileTree(tree));
  };
}

function containsAny(entry: FileTree, entries: Set<object>): boolean {
  if (entries.has(entry)) return true;
  return Object.values(entry.dir ?? {}).some((child) => containsAny(child, entries));
}
