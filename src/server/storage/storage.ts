import type { Entry } from "../entry.js";

/**
 * What the server's front ends (BFTP, SFTP) ask of the place files live (issue 14, item 1):
 * one account's tree, addressed by virtual paths ("/" is the account's root; a relative path
 * is taken from `cwd`). Every method checks its path through the sandbox's rules (PROTOCOL.md
 * §6: no climb above the root, no reserved names, no link that leads outside), maps failures
 * to the stable codes of `src/errors.ts`, and never shows an upload before it is committed.
 *
 * The local disk ({@link DiskStorage}) is the first backend. The interface names operations,
 * not system calls, so an object store can be the second: a folder is a prefix, a commit is
 * the completion of a multipart upload. The BFTP front end's bulk paths (GET's straight-line
 * sender, the tree streams) still work on the disk directly for speed; docs/architecture.md
 * says which.
 */
export interface Storage {
  /** Which backend: the disk, or an object store (S3). */
  readonly kind: "disk" | "s3";
  /** Describes a path: links that stay inside are followed unless `follow` is false. */
  stat(cwd: string, path: string, options?: { readonly follow?: boolean }): Promise<StoredEntry>;
  /** The normalised virtual path of `path` (pure: PROTOCOL.md §6's rules). */
  normalize(cwd: string, path: string): string;
  /** The virtual path a link inside the root points to, once resolved; refused if outside. */
  resolveLink(cwd: string, path: string): Promise<string>;
  /** Opens a folder's listing, read a batch at a time; reserved temporary names are hidden. */
  openFolder(cwd: string, path: string): Promise<FolderReader>;
  /** Opens a file to read from any offset. */
  openRead(cwd: string, path: string): Promise<ReadHandle>;
  /**
   * Starts an upload to `path`: bytes written to it are invisible until `commit`, which puts
   * the whole file under its name in one atomic step. With `keep`, the upload starts from a
   * copy of the file there (a client that rewrites part of a file, or appends).
   */
  openUpload(cwd: string, path: string, options: UploadOptions): Promise<UploadHandle>;
  makeFolder(cwd: string, path: string, options?: { readonly parents?: boolean }): Promise<string>;
  removeFolder(cwd: string, path: string): Promise<void>;
  removeFile(cwd: string, path: string): Promise<void>;
  /** Moves a file or folder; without `overwrite` an existing target is `BFTP_ERR_EXISTS`. */
  rename(
    cwd: string,
    from: string,
    to: string,
    options: { readonly overwrite: boolean },
  ): Promise<string>;
  /** Sets a file's modification (and access) time, seconds since the epoch. */
  setTimes(cwd: string, path: string, atime: number, mtime: number): Promise<void>;
  /** Sets a file's permission bits (0o777 at most: no set-id bits, no owner change). */
  setMode(cwd: string, path: string, mode: number): Promise<void>;
}

/** An entry with what SFTP's attributes carry beyond BFTP's {@link Entry}. */
export interface StoredEntry extends Entry {
  /** The virtual path described. */
  readonly path: string;
  /** Permission bits (0o7777 at most). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Last access, ms since the epoch. */
  readonly atime: number;
}

/** A folder being listed. */
export interface FolderReader {
  readonly path: string;
  /** The next entries (at most `max`), or an empty array at the end. */
  next(max: number): Promise<StoredEntry[]>;
  close(): Promise<void>;
}

/** An open file. */
export interface ReadHandle {
  readonly path: string;
  /** Reads into `buffer` from `position`; resolves with the bytes read (0 at the end). */
  read(buffer: Buffer, position: number): Promise<number>;
  stat(): Promise<StoredEntry>;
  close(): Promise<void>;
}

/** Options for {@link Storage.openUpload}. */
export interface UploadOptions {
  /** Replace an existing file (SFTP's TRUNC, BFTP's `overwrite`); else `BFTP_ERR_EXISTS`. */
  readonly overwrite: boolean;
  /** Start from the file's current content (SFTP's open without TRUNC). */
  readonly keep: boolean;
  /** An object store's part size for this upload (a PUT that announced a large size). */
  readonly partSize?: number;
}

/** An upload in progress. */
export interface UploadHandle {
  readonly path: string;
  /** Writes `data` at `position` (any order; the file grows as needed). */
  write(data: Buffer, position: number): Promise<void>;
  /** Truncates or extends the upload to `size` bytes. */
  truncate(size: number): Promise<void>;
  /** The upload's current size and the times it will be given. */
  stat(): Promise<StoredEntry>;
  /** Times to give the file when it is committed (SFTP's FSETSTAT before CLOSE). */
  setTimes(atime: number, mtime: number): void;
  setMode(mode: number): void;
  /** Flushes the bytes and puts the file under its name in one atomic step. */
  commit(): Promise<void>;
  /** Removes what was written; the file under the name is left as it was. */
  abort(): Promise<void>;
}
