// The file-system side of a PUTTREE (PROTOCOL.md §8.14, issue 12), run on a worker thread of
// FsPool: a batch of small, verified files staged, flushed, stamped and committed with
// synchronous calls, so a tree of small files costs one hand-off per batch instead of one
// per open, write, fsync, utimes, close, link and unlink.
import fs from "node:fs";
import { toWireError, type WireError } from "../protocol/replies.js";
import { exactSeconds } from "./commands/put.js";
import { fsError } from "./fs-error.js";

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;

/** One file of a batch: its bytes in the batch's buffer, where it goes, how it is staged. */
export interface StagedFile {
  /** The open folder it goes to (the worker shares the process's descriptors). */
  readonly dirFd: number;
  readonly name: string;
  /** Its staging file, outside the served tree (upload-staging.ts), made here with O_EXCL. */
  readonly staging: string;
  readonly start: number;
  readonly size: number;
  readonly mtime: number;
  readonly virtual: string;
}

/** Commits small files whose checksums matched (their bytes are all here). */
export interface WriteFilesJob {
  readonly op: "writeFiles";
  readonly overwrite: boolean;
  readonly bytes: Uint8Array;
  readonly files: readonly StagedFile[];
}

/** Per file, in order: null once committed, else why not. */
export interface WriteFilesResult {
  readonly errors: (WireError | null)[];
}

/**
 * Each file: its staging file created (O_EXCL, O_NOFOLLOW), written, flushed, given its mtime,
 * then committed into its folder through `/proc/self/fd/N/name` by a hard link that fails if
 * the name exists, or a rename with `overwrite` (neither follows a link at the name). Then
 * each folder written to is flushed once, so every file said committed is on disk.
 */
export function writeFiles(job: WriteFilesJob): WriteFilesResult {
  const errors: (WireError | null)[] = [];
  const dirs = new Set<number>();
  for (const file of job.files) {
    let fd = -1;
    let staged = false;
    try {
      fd = fs.openSync(file.staging, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o644);
      staged = true;
      for (let got = 0; got < file.size;) {
        got += fs.writeSync(fd, job.bytes, file.start + got, file.size - got, got);
      }
      fs.fsyncSync(fd);
      fs.futimesSync(fd, Date.now() / 1000, exactSeconds(file.mtime));
      fs.closeSync(fd);
      fd = -1;
      const target = `/proc/self/fd/${file.dirFd}/${file.name}`;
      if (job.overwrite) fs.renameSync(file.staging, target);
      else {
        fs.linkSync(file.staging, target); // EEXIST if the name exists
        fs.unlinkSync(file.staging);
      }
      staged = false;
      dirs.add(file.dirFd);
      errors.push(null);
    } catch (err) {
      errors.push(toWireError(fsError(err, "create", file.virtual)));
    } finally {
      if (fd >= 0) fs.closeSync(fd);
      if (staged) fs.rmSync(file.staging, { force: true });
    }
  }
  for (const dir of dirs) fs.fsyncSync(dir);
  return { errors };
}
