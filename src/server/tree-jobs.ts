import type { WireError } from "../protocol/replies.js";
import type { ChecksumAlg } from "../protocol/version.js";
import type { HeldFilesJob } from "./tree-upload-held.js";
import type { WriteFilesJob } from "./tree-upload-jobs.js";

/** An entry of a folder, as the worker lists it: its name and what it is (links not followed). */
export type TreeEntry = readonly [name: string, kind: "file" | "dir" | "symlink" | "other"];

/** A folder opened and listed by the worker; `fd` -1 when it failed (or was the root, given open). */
export interface DirListing {
  readonly fd: number;
  readonly entries: readonly TreeEntry[];
  readonly error?: WireError;
}

/** The stamps that say whether a file changed while it was read (file-version.ts). */
export interface FileStamps {
  readonly dev: bigint;
  readonly ino: bigint;
  readonly size: bigint;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
  readonly nlink: bigint;
}

/** A file too large for a batch, opened (O_NOFOLLOW) by the worker for the main thread to stream. */
export interface OpenedBig {
  readonly fd: number;
  readonly rel: string;
  readonly virtual: string;
  readonly size: number;
  readonly mtime: number;
  readonly stats: FileStamps;
}

/** One file to send: its name in the batch's folder, its record path, and the receiver's copy. */
export interface ReadItem {
  readonly name: string;
  readonly rel: string;
  readonly have?: {
    readonly size: number;
    readonly mtime?: number | undefined;
    readonly sha256?: string | undefined;
  };
}

/** Reads files of one folder into tree records (PROTOCOL.md §7.4). */
export interface ReadFilesJob {
  readonly op: "readFiles";
  /** The folder, reached through its open descriptor: `/proc/self/fd/N`. */
  readonly dir: string;
  readonly virtualDir: string;
  readonly items: readonly ReadItem[];
  readonly alg: ChecksumAlg;
  readonly maxChunk: number;
  /** Stop once this many bytes of records are built. */
  readonly budget: number;
  /** Files larger than this are handed back open, not read. */
  readonly bigAt: number;
  /** The phase checksum so far. */
  readonly crc: number;
  /**
   * GETTREE's list form: the names are whatever the list named, not a listing's files. Each
   * is opened without following a link and without blocking, and looked at (`fstat`) before
   * it is read: a missing name is an `S` record with BFTP_ERR_NOT_FOUND, anything but a
   * regular file or a folder an `S` record, and a folder ends the batch (`folder`).
   */
  readonly probe?: boolean;
}

/** What a batch built: the records (memory transferred, not copied) and how far it got. */
export interface ReadFilesResult {
  readonly bytes: Uint8Array;
  readonly crc: number;
  /** Items of the job dealt with (the big one included). */
  readonly consumed: number;
  readonly files: number;
  readonly fileBytes: number;
  readonly big?: OpenedBig;
  /** With `probe`: the item after the consumed ones is a folder, for the main thread to send. */
  readonly folder?: boolean;
}

/** Every job a tree worker runs. */
export type FsJob =
  | {
      readonly op: "openDir";
      /** The folder that holds it (`/proc/self/fd/N`), or the folder itself when `name` is null. */
      readonly parent: string;
      readonly name: string | null;
      readonly virtual: string;
    }
  | ReadFilesJob
  | WriteFilesJob
  | HeldFilesJob
  | { readonly op: "close"; readonly fds: readonly number[] };
