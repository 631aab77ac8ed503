// The file-system side of a tree transfer (PROTOCOL.md §8.13, issue 12 item 3), run on a
// worker thread of FsPool: synchronous calls in batches, so a tree of small files costs one
// hand-off per batch instead of one per open, stat, read and close. Every name is reached
// through an open directory (`/proc/self/fd/N/name`) with O_NOFOLLOW: a name swapped for a
// link between the listing and the open is refused, never followed (sandbox.ts's rule).
import { createHash } from "node:crypto";
import fs, { type BigIntStats } from "node:fs";
import { parentPort } from "node:worker_threads";
import { crc32 } from "../protocol/crc32.js";
import { BftpError } from "../errors.js";
import { crc32Hex } from "../protocol/checksum.js";
import { toWireError, type WireError } from "../protocol/replies.js";
import { TreeEncoder } from "../protocol/tree-encoder.js";
import { isRecordPath } from "../protocol/tree-records.js";
import type { ChecksumAlg } from "../protocol/version.js";
import { RACY_MS, sameVersion } from "./file-version.js";
import { fsError } from "./fs-error.js";
import { TEMP_PREFIX } from "./sandbox.js";
import type {
  DirListing,
  FileStamps,
  FsJob,
  OpenedBig,
  ReadFilesJob,
  ReadFilesResult,
  ReadItem,
  TreeEntry,
} from "./tree-jobs.js";
import { heldFiles } from "./tree-upload-held.js";
import { writeFiles } from "./tree-upload-jobs.js";

const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK, O_NOCTTY } = fs.constants;

/** Most entries one folder may hold before it is reported unreadable. */
const MAX_DIR_ENTRIES = 1_000_000;

function openDir(parent: string, name: string | null, virtual: string): DirListing {
  let fd = -1;
  let path = parent;
  if (name !== null) {
    try {
      fd = fs.openSync(`${parent}/${name}`, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    } catch (err) {
      return { fd: -1, entries: [], error: toWireError(fsError(err, "open", virtual)) };
    }
    path = `/proc/self/fd/${fd}`;
  }
  try {
    const entries: TreeEntry[] = [];
    for (const dirent of fs.readdirSync(path, { withFileTypes: true })) {
      const entryName = dirent.name;
      // Reserved temporary names are never shown (§6); a name no record can carry is left out.
      if (entryName.startsWith(TEMP_PREFIX) || !isRecordPath(entryName)) continue;
      if (entries.length === MAX_DIR_ENTRIES) {
        throw new BftpError(
          "BFTP_ERR_INTERNAL",
          `Cannot list ${JSON.stringify(virtual)}: too many entries`,
        );
      }
      const kind = dirent.isFile()
        ? "file"
        : dirent.isDirectory()
          ? "dir"
          : dirent.isSymbolicLink()
            ? "symlink"
            : "other";
      entries.push([entryName, kind]);
    }
    return { fd, entries };
  } catch (err) {
    if (fd >= 0) fs.closeSync(fd);
    return { fd: -1, entries: [], error: toWireError(fsError(err, "list", virtual)) };
  }
}

/** Stats once the change time is old enough to trust (file-version.ts), waiting at most once. */
function settled(fd: number, stats: BigIntStats): BigIntStats | undefined {
  const stamp = Number(stats.ctimeNs / 1_000_000n);
  const wait = stamp + RACY_MS + 1 - Date.now();
  if (Math.abs(Date.now() - stamp) >= RACY_MS) return stats;
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.max(1, wait));
  const again = fs.fstatSync(fd, { bigint: true });
  return sameVersion(stats, again) ? again : undefined;
}

function digest(alg: ChecksumAlg, bytes: Uint8Array): string {
  if (alg === "sha256") return createHash("sha256").update(bytes).digest("hex");
  return crc32Hex(crc32(bytes));
}

function changed(virtual: string): WireError {
  return toWireError(
    new BftpError(
      "BFTP_ERR_FILE_CHANGED",
      `Cannot read ${JSON.stringify(virtual)}: the file changed while it was read`,
    ),
  );
}

/** The worker's buffer for {@link readWhole}: one per thread, grown to the largest `bigAt`. */
let scratch = Buffer.alloc(0);

/** A small file read whole, and the stamps of the version read. */
interface WholeFile {
  readonly size: number;
  readonly mtime: number;
}

/**
 * One read and one `fstat`, for a file that nothing wrote to while it was read: the bytes
 * land in `scratch`. `openedAt` is the wall clock before the file was opened. The stamps,
 * taken after the read, are trusted when the change time is at least {@link RACY_MS} older
 * than `openedAt`: any write from then on would have stamped a later change time (the
 * coarse clock steps by less than RACY_MS, file-version.ts), so the bytes are the version
 * these stamps describe, and the size read must be its size. Undefined otherwise (a recent
 * change, a size that differs, a file over `bigAt`, not a regular file, a read error): the
 * caller takes the stamps before and after reading instead, as it did for every file before
 * (the one `fstat` saved is a fifth of the system calls per file).
 */
function readWhole(fd: number, bigAt: number, openedAt: number): WholeFile | undefined {
  if (scratch.length < bigAt + 1) scratch = Buffer.allocUnsafeSlow(bigAt + 1);
  let n: number;
  try {
    // A regular file's read returns less than asked only at its end; the size checks it.
    n = fs.readSync(fd, scratch, 0, bigAt + 1, 0);
  } catch {
    return undefined;
  }
  if (n > bigAt) return undefined;
  const stats = fs.fstatSync(fd, { bigint: true });
  if (!stats.isFile() || stats.size !== BigInt(n)) return undefined;
  if (Number(stats.ctimeNs / 1_000_000n) > openedAt - RACY_MS) return undefined;
  return { size: n, mtime: Number(stats.mtimeNs / 1_000_000n) };
}

/** What one batch has read so far: counts for the result, and a large file met. */
interface Tally {
  files: number;
  bytes: number;
  big: OpenedBig | undefined;
  /** A probed name was a folder: the batch ends before it. */
  folder: boolean;
}

/**
 * Reads the batch's files, in order, into records, until `budget` bytes are built or a file
 * larger than `bigAt` is met (opened and handed back for the main thread to stream).
 *
 * Only the common case is written here (a small file read whole, its stamps trusted); every
 * other case is a call away. V8 optimizes a function after it ran some 67 KB of its own
 * bytecode per "tick" for 3 ticks plus one per 150 bytes of its length: this loop, at 1,856
 * bytes with the rare cases inline, took 15 ticks, about 3,000 small files, before it was
 * optimized; at its length now (718 bytes, with the list form's probe) it takes 7
 * (docs/performance.md, December 6).
 */
function readFiles(job: ReadFilesJob): ReadFilesResult {
  // Room for the budget and one more small file's records: the arena then never grows.
  const out = new TreeEncoder(job.maxChunk, job.crc, job.budget + 128 * 1024);
  const tally: Tally = { files: 0, bytes: 0, big: undefined, folder: false };
  const items = job.items;
  let consumed = 0;
  // An index, not for-of: the iterator protocol is about a hundred bytes of the loop's length.
  while (consumed < items.length && out.length < job.budget) {
    const item = items[consumed] as ReadItem;
    consumed++;
    const openedAt = Date.now();
    let fd: number;
    try {
      fd = fs.openSync(`${job.dir}/${item.name}`, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
    } catch (err) {
      openFailed(out, job, item, err);
      continue; // gone since the listing: nothing to send
    }
    let keep = false;
    try {
      if (job.probe === true && !probedFile(out, item, fd, tally)) {
        if (!tally.folder) continue;
        consumed--; // the folder is the main thread's to send
        break;
      }
      // A have-list entry is answered from the stamps alone (K without reading): not here.
      const whole = item.have === undefined ? readWhole(fd, job.bigAt, openedAt) : undefined;
      if (whole === undefined) {
        keep = readChecked(out, job, item, fd, tally);
        if (keep) break;
        continue;
      }
      const { size, mtime } = whole;
      out.head(item.rel, size, mtime);
      const body = scratch.subarray(0, size);
      // With crc32 the file's checksum is also its D frame's: the bytes are read once.
      const crc = job.alg === "crc32" ? crc32(body) : undefined;
      if (size > 0 && size < job.maxChunk) {
        const frame = out.dataFrame(size);
        body.copy(frame, frame.length - size);
        out.pushFrame(frame, crc);
      } else out.data(body);
      out.endOk(crc === undefined ? digest(job.alg, body) : crc32Hex(crc));
      tally.files++;
      tally.bytes += size;
    } catch (err) {
      readFailed(out, job, item, err);
    } finally {
      if (!keep) fs.closeSync(fd);
    }
  }
  return resultOf(out, consumed, tally);
}

function resultOf(out: TreeEncoder, consumed: number, tally: Tally): ReadFilesResult {
  const built = out.takeLast();
  return {
    bytes: built,
    crc: out.crc,
    consumed,
    files: tally.files,
    fileBytes: tally.bytes,
    ...(tally.big === undefined ? {} : { big: tally.big }),
    ...(tally.folder ? { folder: true } : {}),
  };
}

/** The batch item's path as the client knows it, for errors. */
function virtualOf(job: ReadFilesJob, item: ReadItem): string {
  return `${job.virtualDir}/${item.name}`;
}

/**
 * A file that could not be opened: a link is skipped as one, and a socket (ENXIO: only the
 * list form opens one) as "other"; a file gone since the listing is left out, but a name the
 * list gave that does not exist is reported (BFTP_ERR_NOT_FOUND).
 */
function openFailed(out: TreeEncoder, job: ReadFilesJob, item: ReadItem, err: unknown): void {
  const code = (err as { code?: unknown }).code;
  if (code === "ELOOP") out.skip(item.rel, "symlink");
  else if (code === "ENXIO") out.skip(item.rel, "other");
  else if (code === "ENOENT" && job.probe === true)
    out.skip(item.rel, "other", notFound(job, item));
  else if (code !== "ENOENT")
    out.skip(item.rel, "other", toWireError(fsError(err, "open", virtualOf(job, item))));
}

/** A name the list gave that is not there (PROTOCOL.md §8.13's worked example). */
function notFound(job: ReadFilesJob, item: ReadItem): WireError {
  return toWireError(
    new BftpError(
      "BFTP_ERR_NOT_FOUND",
      `Cannot read ${JSON.stringify(virtualOf(job, item))}: no such file`,
    ),
  );
}

/**
 * Whether a name the list gave, now open, is a regular file, looked at before any read (a
 * device is never read). A folder sets `tally.folder`; anything else is skipped as "other".
 */
function probedFile(out: TreeEncoder, item: ReadItem, fd: number, tally: Tally): boolean {
  const stats = fs.fstatSync(fd, { bigint: true }); // as readWhole's: one shape to optimize
  if (stats.isFile()) return true;
  if (stats.isDirectory()) tally.folder = true;
  else out.skip(item.rel, "other");
  return false;
}

function readFailed(out: TreeEncoder, job: ReadFilesJob, item: ReadItem, err: unknown): void {
  out.skip(item.rel, "other", toWireError(fsError(err, "read", virtualOf(job, item))));
}

/**
 * Every file {@link readWhole} does not take (a have-list entry, a recent change, a size that
 * moved, not a regular file, larger than `bigAt`): the stamps before and after the read.
 * True when the file is large and its descriptor is kept in `tally.big` for the main thread.
 */
function readChecked(
  out: TreeEncoder,
  job: ReadFilesJob,
  item: ReadItem,
  fd: number,
  tally: Tally,
): boolean {
  const virtual = virtualOf(job, item);
  const first = fs.fstatSync(fd, { bigint: true });
  if (!first.isFile()) {
    out.skip(item.rel, "other");
    return false;
  }
  const size = Number(first.size);
  const mtime = Number(first.mtimeNs / 1_000_000n); // whole ms, no float rounding
  const have = item.have;
  if (
    have !== undefined &&
    have.size === size &&
    have.sha256 === undefined &&
    have.mtime === mtime
  ) {
    out.kept(item.rel);
    return false;
  }
  if (size > job.bigAt) {
    tally.big = { fd, rel: item.rel, virtual, size, mtime, stats: stampsOf(first) };
    return true;
  }
  const stats = settled(fd, first);
  if (stats === undefined) {
    out.head(item.rel, size, mtime);
    out.endError(changed(virtual));
    return false;
  }
  // The header first, then one D frame the file is read straight into (larger files are
  // read whole, then framed); a file that changed meanwhile is rolled back to its E.
  const mark = out.mark();
  out.head(item.rel, size, mtime);
  const single = size > 0 && size < job.maxChunk;
  const frame = single ? out.dataFrame(size) : undefined;
  const body = frame === undefined ? Buffer.allocUnsafe(size) : frame.subarray(frame.length - size);
  let got = 0;
  while (got < size) {
    const n = fs.readSync(fd, body, got, size - got, got);
    if (n === 0) break;
    got += n;
  }
  const after = fs.fstatSync(fd, { bigint: true });
  if (got !== size || !sameVersion(stats, after)) {
    out.rollback(mark);
    out.head(item.rel, size, mtime);
    out.endError(changed(virtual));
    return false;
  }
  const sum = have?.sha256 !== undefined && have.size === size ? digest("sha256", body) : undefined;
  if (sum !== undefined && sum === have?.sha256) {
    out.rollback(mark);
    out.kept(item.rel);
    return false;
  }
  const crc = job.alg === "crc32" ? crc32(body) : undefined;
  if (frame !== undefined) out.pushFrame(frame, crc);
  else out.data(body);
  out.endOk(crc !== undefined ? crc32Hex(crc) : sum !== undefined ? sum : digest(job.alg, body));
  tally.files++;
  tally.bytes += size;
  return false;
}

/** The stamps of `stats` as plain values a message can carry. */
function stampsOf(stats: BigIntStats): FileStamps {
  const { dev, ino, size, mtimeNs, ctimeNs, nlink } = stats;
  return { dev, ino, size, mtimeNs, ctimeNs, nlink };
}

function run(job: FsJob): { result: unknown; transfer: ArrayBuffer[] } {
  switch (job.op) {
    case "openDir":
      return { result: openDir(job.parent, job.name, job.virtual), transfer: [] };
    case "readFiles": {
      const result = readFiles(job);
      return { result, transfer: [result.bytes.buffer as ArrayBuffer] };
    }
    case "writeFiles": {
      const result = writeFiles(job);
      return { result, transfer: [result.buffer] };
    }
    case "heldFiles":
      return { result: heldFiles(job), transfer: [] };
    case "close":
      for (const fd of job.fds) {
        try {
          fs.closeSync(fd);
        } catch {
          // already closed: nothing to do
        }
      }
      return { result: null, transfer: [] };
  }
}

parentPort?.on("message", (message: { id: number; job: FsJob }) => {
  try {
    const { result, transfer } = run(message.job);
    parentPort?.postMessage({ id: message.id, result }, transfer);
  } catch (err) {
    parentPort?.postMessage({ id: message.id, error: toWireError(err) });
  }
});
