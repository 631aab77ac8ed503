// The file-system side of PUTTREE's held phase (PROTOCOL.md §8.14, issue 12 item 2), run on a
// worker thread of FsPool: which of the files a client offers the server already holds
// complete, decided with synchronous calls in batches (one hand-off per batch, not per stat).
// Every name is reached through its open parent (`/proc/self/fd/N/name`) from the folder the
// sandbox opened, with O_NOFOLLOW for folders and `lstat` for the last name: a link at any
// name is never followed, and a link (or a folder, or a special file) at the file's name is
// never held.
import { createHash } from "node:crypto";
import fs from "node:fs";
import { isRecordPath } from "../protocol/tree-records.js";
import { TEMP_PREFIX } from "./sandbox.js";

const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK } = fs.constants;

/** Folders one batch keeps open at once (the offer comes in walk order: folders repeat). */
const MAX_OPEN_DIRS = 64;
/** Bytes one read of a file being hashed takes. */
const HASH_PIECE = 1024 * 1024;

/** One offered file (a have-list entry, §8.13): held if the server's copy matches it. */
export interface HeldItem {
  readonly path: string;
  readonly size: number;
  readonly mtime?: number | undefined;
  readonly sha256?: string | undefined;
}

/** Decides which of `items` the server holds, in order, until `budget` bytes were hashed. */
export interface HeldFilesJob {
  readonly op: "heldFiles";
  /** The target folder, opened through the sandbox (the worker shares the descriptors). */
  readonly rootFd: number;
  readonly items: readonly HeldItem[];
  /** Bytes of files to hash (entries with `sha256`) before the batch ends. */
  readonly budget: number;
  /** A file to hash larger than this is handed back open, for the main thread to hash. */
  readonly bigAt: number;
}

/** A file to hash too large for a batch: opened here (O_NOFOLLOW), size already matched. */
export interface HeldBig {
  readonly index: number;
  readonly fd: number;
}

/** What a batch decided: the indices (into its items) held, and how far it got. */
export interface HeldFilesResult {
  readonly held: number[];
  /** Items dealt with, the big one included. */
  readonly consumed: number;
  readonly big?: HeldBig;
}

let scratch: Buffer | undefined;

/**
 * The batch's items in order: held when the name is a regular file (not a link) of the same
 * size and, for an entry with `sha256`, the same SHA-256, else the same `mtime` to the
 * millisecond. Anything that cannot be reached or read is simply not held: the client then
 * sends the file, and the records phase reports what is wrong with it.
 */
export function heldFiles(job: HeldFilesJob): HeldFilesResult {
  const dirs = new Map<string, number>();
  const held: number[] = [];
  let consumed = 0;
  let hashed = 0;
  let big: HeldBig | undefined;
  try {
    for (const [index, item] of job.items.entries()) {
      if (hashed >= job.budget) break;
      consumed++;
      const names = item.path.split("/");
      if (!isRecordPath(item.path) || names.some((n) => n.startsWith(TEMP_PREFIX))) continue;
      const dirFd = openParent(job.rootFd, names, dirs);
      if (dirFd === undefined) continue;
      const at = `/proc/self/fd/${dirFd}/${names[names.length - 1] ?? ""}`;
      let stats: fs.BigIntStats | undefined;
      try {
        stats = fs.lstatSync(at, { bigint: true, throwIfNoEntry: false });
      } catch {
        continue;
      }
      if (stats?.isFile() !== true || Number(stats.size) !== item.size) continue;
      if (item.sha256 === undefined) {
        if (item.mtime === Number(stats.mtimeNs / 1_000_000n)) held.push(index);
        continue;
      }
      const opened = openFile(at, item.size);
      if (opened === undefined) continue;
      if (item.size > job.bigAt) {
        big = { index, fd: opened };
        break;
      }
      try {
        hashed += item.size;
        if (sha256Of(opened, item.size) === item.sha256) held.push(index);
      } finally {
        fs.closeSync(opened);
      }
    }
  } finally {
    for (const fd of dirs.values()) fs.closeSync(fd);
  }
  return { held, consumed, ...(big === undefined ? {} : { big }) };
}

/**
 * The open folder holding the last of `names`, reached one name at a time from the root with
 * O_NOFOLLOW; undefined if any is missing, not a folder, or a link. Folders stay open for the
 * next items (at most {@link MAX_OPEN_DIRS}, the oldest closed first).
 */
function openParent(
  rootFd: number,
  names: readonly string[],
  dirs: Map<string, number>,
): number | undefined {
  let fd = rootFd;
  let rel = "";
  for (const name of names.slice(0, -1)) {
    rel = rel === "" ? name : `${rel}/${name}`;
    const known = dirs.get(rel);
    if (known !== undefined) {
      fd = known;
      continue;
    }
    try {
      fd = fs.openSync(`/proc/self/fd/${fd}/${name}`, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    } catch {
      return undefined;
    }
    if (dirs.size >= MAX_OPEN_DIRS) {
      // The oldest goes, even if it is this path's parent: it is not used again below.
      const [oldRel, oldFd] = dirs.entries().next().value as [string, number];
      dirs.delete(oldRel);
      fs.closeSync(oldFd);
    }
    dirs.set(rel, fd);
  }
  return fd;
}

/** The file at `at` opened without following a link, if it is still a file of `size`. */
function openFile(at: string, size: number): number | undefined {
  let fd: number;
  try {
    fd = fs.openSync(at, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const stats = fs.fstatSync(fd);
    if (stats.isFile() && stats.size === size) return fd;
  } catch {
    // not held
  }
  fs.closeSync(fd);
  return undefined;
}

/** The SHA-256 of the first `size` bytes of `fd`, or undefined if it holds fewer. */
function sha256Of(fd: number, size: number): string | undefined {
  scratch ??= Buffer.allocUnsafeSlow(HASH_PIECE);
  const hash = createHash("sha256");
  for (let position = 0; position < size;) {
    let n: number;
    try {
      n = fs.readSync(fd, scratch, 0, Math.min(scratch.length, size - position), position);
    } catch {
      return undefined;
    }
    if (n === 0) return undefined;
    hash.update(scratch.subarray(0, n));
    position += n;
  }
  return hash.digest("hex");
}
