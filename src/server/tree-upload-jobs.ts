// The file-system side of a PUTTREE (PROTOCOL.md §8.14, issue 12), run on a worker thread of
// FsPool: a batch of small, verified files staged, flushed, stamped and committed with
// synchronous calls, so a tree of small files costs one hand-off per batch instead of one
// per open, write, fsync, utimes, close, link and unlink.
import fs from "node:fs";
import { exactSeconds } from "../exact-seconds.js";

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;

/**
 * Commits small files whose checksums matched (their bytes are all here). The job is flat, so
 * that handing it to the worker costs little: the bytes and the numbers are moved, not copied,
 * and the names are one string (a structured clone of an object per file cost more than the
 * files' writes).
 */
export interface WriteFilesJob {
  readonly op: "writeFiles";
  readonly overwrite: boolean;
  /** The files' bytes, one after another. */
  readonly bytes: Uint8Array;
  /** {@link FIELDS} numbers per file; see {@link packFile}. */
  readonly numbers: Float64Array;
  /** The files' names, each followed by `/` (a name holds none). */
  readonly names: string;
  /** Staging files are `${staging}${serial}`, outside the served tree (upload-staging.ts). */
  readonly staging: string;
}

/** Numbers per file in {@link WriteFilesJob.numbers}. */
export const FIELDS = 5;

/** One file of a batch, as the sink knows it. */
export interface BatchFile {
  /** The open folder it goes to (the worker shares the process's descriptors). */
  readonly dirFd: number;
  readonly name: string;
  /** Its staging file's number (unique in the tree), made by the worker with O_EXCL. */
  readonly serial: number;
  /** Where its bytes start in the batch's buffer. */
  readonly start: number;
  readonly size: number;
  readonly mtime: number;
}

/** Writes `file`'s numbers as the `index`th of a job. */
export function packFile(numbers: Float64Array, index: number, file: BatchFile): void {
  const at = index * FIELDS;
  numbers[at] = file.dirFd;
  numbers[at + 1] = file.serial;
  numbers[at + 2] = file.start;
  numbers[at + 3] = file.size;
  numbers[at + 4] = file.mtime;
}

/** The files that failed, by their index in the job, with the system's error code. */
export interface WriteFilesResult {
  readonly failed: { readonly index: number; readonly code: string | undefined }[];
  /** The job's buffer, moved back for the next batch (no fresh pages to fault in each time). */
  readonly buffer: ArrayBuffer;
}

/**
 * Each file: its staging file created (O_EXCL, O_NOFOLLOW), written, flushed, given its mtime,
 * then committed into its folder through `/proc/self/fd/N/name` by a hard link that fails if
 * the name exists, or a rename with `overwrite` (neither follows a link at the name). Then
 * each folder written to is flushed once, so every file said committed is on disk. The
 * caller turns each failure's code into its wire error (fs-error.ts), with the file's path.
 */
export function writeFiles(job: WriteFilesJob): WriteFilesResult {
  const failed: { index: number; code: string | undefined }[] = [];
  const dirs = new Set<number>();
  const { numbers, names, bytes } = job;
  let nameAt = 0;
  for (let index = 0; index * FIELDS < numbers.length; index++) {
    const at = index * FIELDS;
    const dirFd = numbers[at] as number;
    const staging = `${job.staging}${numbers[at + 1] as number}`;
    const start = numbers[at + 2] as number;
    const size = numbers[at + 3] as number;
    const mtime = numbers[at + 4] as number;
    const nameEnd = names.indexOf("/", nameAt);
    const name = names.slice(nameAt, nameEnd);
    nameAt = nameEnd + 1;
    let fd = -1;
    let staged = false;
    try {
      fd = fs.openSync(staging, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o644);
      staged = true;
      for (let got = 0; got < size;) {
        got += fs.writeSync(fd, bytes, start + got, size - got, got);
      }
      fs.fsyncSync(fd);
      fs.futimesSync(fd, Date.now() / 1000, exactSeconds(mtime));
      fs.closeSync(fd);
      fd = -1;
      const target = `/proc/self/fd/${dirFd}/${name}`;
      if (job.overwrite) fs.renameSync(staging, target);
      else {
        fs.linkSync(staging, target); // EEXIST if the name exists
        fs.unlinkSync(staging);
      }
      staged = false;
      dirs.add(dirFd);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      failed.push({ index, code: typeof code === "string" ? code : undefined });
    } finally {
      if (fd >= 0) fs.closeSync(fd);
      if (staged) fs.rmSync(staging, { force: true });
    }
  }
  for (const dir of dirs) fs.fsyncSync(dir);
  return { failed, buffer: bytes.buffer as ArrayBuffer };
}
