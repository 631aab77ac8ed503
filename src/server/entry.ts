import type { Stats } from "node:fs";

/** A file-system entry as STAT and LIST return it (PROTOCOL.md §8). */
export interface Entry {
  readonly name: string;
  readonly type: "file" | "dir" | "symlink" | "other";
  readonly size: number;
  readonly mtime: number;
}

/** The wire entry for `name` described by `stats` (lstat for LIST, stat for STAT). */
export function toEntry(name: string, stats: Stats): Entry {
  const type = stats.isFile()
    ? "file"
    : stats.isDirectory()
      ? "dir"
      : stats.isSymbolicLink()
        ? "symlink"
        : "other";
  return { name, type, size: type === "file" ? stats.size : 0, mtime: Math.trunc(stats.mtimeMs) };
}
