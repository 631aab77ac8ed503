import fs from "node:fs";
import { promisify } from "node:util";
import { BftpError } from "../errors.js";
import { exactSeconds } from "../exact-seconds.js";
import { partName } from "./temp-files.js";

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;
const open = promisify(fs.open);
const close = promisify(fs.close);
const fsync = promisify(fs.fsync);
const futimes = promisify(fs.futimes);
const write = promisify(fs.write);
const lstat = promisify(fs.lstat);
const link = promisify(fs.link);
const rename = promisify(fs.rename);
const unlink = promisify(fs.unlink);

/** Where a large file of a PUTTREE goes (PROTOCOL.md §8.14). */
export interface LargeTarget {
  /** Its open folder, and its name there. */
  readonly dirFd: number;
  readonly name: string;
  readonly virtual: string;
  /** The staging folder, outside the served tree (upload-staging.ts). */
  readonly area: string;
  readonly overwrite: boolean;
  /** Tracks the staging file for the session to remove if it dies first; returns the untrack. */
  readonly trackTemp: (path: string) => () => void;
}

/**
 * A file of a PUTTREE too large for a batch: its bytes are written to a staging file of its
 * own as they arrive (never held), then flushed, stamped and committed into its folder
 * through `/proc/self/fd/N/name` by a hard link that fails if the name exists, or a rename
 * with `overwrite`. Errors are the file system's: the caller words them.
 */
export class LargeUpload {
  readonly #target: LargeTarget;
  #fd: number | undefined;
  #staging: string | undefined;
  #untrack: (() => void) | undefined;

  private constructor(target: LargeTarget) {
    this.#target = target;
  }

  /** Checks the name (not a folder; not a file unless `overwrite`) and opens the staging file. */
  static async start(target: LargeTarget): Promise<LargeUpload> {
    const existing = await lstat(`/proc/self/fd/${target.dirFd}/${target.name}`).catch(
      () => undefined,
    );
    if (existing?.isDirectory() === true) {
      throw new BftpError(
        "BFTP_ERR_IS_A_DIRECTORY",
        `Cannot upload to ${JSON.stringify(target.virtual)}: it is a directory`,
      );
    }
    if (existing !== undefined && !target.overwrite) {
      throw new BftpError(
        "BFTP_ERR_EXISTS",
        `Cannot create ${JSON.stringify(target.virtual)}: it exists`,
      );
    }
    const upload = new LargeUpload(target);
    const staging = `${target.area}/${partName()}`;
    upload.#fd = await open(staging, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o644);
    upload.#staging = staging;
    upload.#untrack = target.trackTemp(staging);
    return upload;
  }

  /** Writes `bytes` at `position` of the staging file. */
  async write(bytes: Buffer, position: number): Promise<void> {
    const fd = this.#fd;
    if (fd === undefined) return;
    for (let at = 0; at < bytes.length;) {
      const { bytesWritten } = await write(fd, bytes, at, bytes.length - at, position + at);
      at += bytesWritten;
    }
  }

  /** Flushes, stamps with `mtime` (ms) and commits the file under its name. */
  async commit(mtime: number): Promise<void> {
    const fd = this.#fd as number;
    await fsync(fd);
    await futimes(fd, Date.now() / 1000, exactSeconds(mtime));
    this.#fd = undefined;
    await close(fd);
    const staging = this.#staging as string;
    const target = `/proc/self/fd/${this.#target.dirFd}/${this.#target.name}`;
    if (this.#target.overwrite) await rename(staging, target);
    else {
      await link(staging, target); // EEXIST if the name appeared meanwhile
      await unlink(staging);
    }
    this.#staging = undefined;
    this.#untrack?.();
  }

  /** Closes and removes the staging file, if any (never throws). */
  async drop(): Promise<void> {
    if (this.#fd !== undefined) await close(this.#fd).catch(() => undefined);
    this.#fd = undefined;
    if (this.#staging !== undefined) await unlink(this.#staging).catch(() => undefined);
    this.#staging = undefined;
    this.#untrack?.();
  }
}
