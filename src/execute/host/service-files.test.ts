import { describe, expect, it } from "vitest";
import {
  MAX_FILE_BYTES,
  MAX_FILE_ENTRIES,
  buildFileTree,
  checkFileRows,
  flattenFileTree,
  type FileRow,
} from "./service-files";

describe("service directory rows", () => {
  it("a tree survives flatten → build, parents before children, bytes copied", () => {
    const shared = new Uint8Array([1, 2, 3, 4]);
    const tree = {
      dir: {
        "a.txt": { source: shared.subarray(0, 2) },
        data: { dir: { "b.bin": { source: "hi" }, empty: { dir: {} } } },
        link: { symlink: "a.txt" },
      },
    };
    const rows = flattenFileTree(tree);
    expect(rows.map((r) => `${r.kind}:${r.path}`)).toEqual([
      "file:a.txt",
      "dir:data",
      "file:data/b.bin",
      "dir:data/empty",
      "symlink:link",
    ]);
    // a subarray's row holds its own bytes, not the whole underlying buffer
    expect((rows[0] as Extract<FileRow, { kind: "file" }>).data.buffer.byteLength).toBe(2);
    expect(buildFileTree(rows)).toEqual({
      dir: {
        "a.txt": { source: new Uint8Array([1, 2]) },
        data: { dir: { "b.bin": { source: new TextEncoder().encode("hi") }, empty: { dir: {} } } },
        link: { symlink: "a.txt" },
      },
    });
  });

  it("refuses more entries or bytes than a service may keep", () => {
    expect(checkFileRows([{ path: "f", kind: "file", data: new Uint8Array(10) }])).toBeNull();
    expect(checkFileRows([{ path: "f", kind: "file", data: new Uint8Array(MAX_FILE_BYTES + 1) }])).toMatch(
      /bytes, over the limit/,
    );
    const many = Array.from({ length: MAX_FILE_ENTRIES + 1 }, (_, i): FileRow => ({ path: `d${i}`, kind: "dir" }));
    expect(checkFileRows(many)).toMatch(/entries, over the limit/);
  });
});
