import fs from "node:fs";
import { promisify } from "node:util";
import { BftpError, isBftpError } from "../errors.js";
import { toWireError, type WireError } from "../protocol/replies.js";
import { TreeDecoder, type TreeEvent } from "../protocol/tree-decoder.js";
import { TreeEncoder } from "../protocol/tree-encoder.js";
import { isRecordPath } from "../protocol/tree-records.js";
import type { ChecksumAlg } from "../protocol/version.js";
import { writeAll } from "../wire/write-all.js";
import type { CommandContext } from "./command-context.js";
import { exactSeconds } from "./commands/put.js";
import { fsError } from "./fs-error.js";
import { sharedFsPool } from "./fs-pool.js";
import { TEMP_PREFIX } from "./sandbox.js";
import { partName } from "./temp-files.js";
import type { StagedFile, WriteFilesResult } from "./tree-upload-jobs.js";

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_DIRECTORY, O_NOFOLLOW } = fs.constants;

const open = promisify(fs.open);
const close = promisify(fs.close);
const fsync = promisify(fs.fsync);
const futimes = promisify(fs.futimes);
const write = promisify(fs.write);
const mkdir = promisify(fs.mkdir);
const lstat = promisify(fs.lstat);
const link = promisify(fs.link);
const rename = promisify(fs.rename);
const unlink = promisify(fs.unlink);

/** Folders kept open at once (a tree's deeper folders are reopened name by name). */
const MAX_OPEN_DIRS = 64;
/** Most bytes one read takes from the socket: the results are flushed between reads. */
const READ_BYTES = 1024 * 1024;
/** Results held before they are written, whatever the records (a bound, §8.14). */
const RESULT_BYTES = 64 * 1024;
/** Files up to this size are committed in batches on the worker pool (tree-upload-jobs.ts). */
const SMALL_FILE = 256 * 1024;
/** Bytes and files of one batch. */
const BATCH_BYTES = 1024 * 1024;
const BATCH_FILES = 512;
/** Deadline of one batch on the pool (as GETTREE's, §8.13). */
const BATCH_TIMEOUT_MS = 30_000;

/** Options for {@link TreeUploadSink}. */
export interface TreeUploadOptions {
  /** The target folder, opened through the sandbox. */
  readonly rootFd: number;
  /** Its virtual path ("" for the root), for messages. */
  readonly virtualRoot: string;
  /** The staging folder, outside the served tree (upload-staging.ts). */
  readonly area: string;
  readonly alg: ChecksumAlg;
  readonly overwrite: boolean;
  /** Files the held phase said the folder holds (§8.14), for the final reply; none without an offer. */
  readonly held?: number | undefined;
}

/** The file whose records are arriving. */
interface Incoming {
  readonly rel: string;
  readonly virtual: string;
  readonly mtime: number;
  /** Why it will not be committed, once known; its bytes are then read and dropped. */
  error?: BftpError | undefined;
  dirFd?: number | undefined;
  name?: string | undefined;
  fd?: number | undefined;
  staging?: string | undefined;
  untrack?: (() => void) | undefined;
  position: number;
  readonly size: number;
  /** Where its bytes start in the batch buffer, when it is small enough to be batched. */
  start?: number | undefined;
}

/**
 * PUTTREE's records and results phases (PROTOCOL.md §8.14): decodes the client's records as
 * they arrive (TreeDecoder, every length checked before it is buffered), writes each file to
 * a staging file of its own, commits it once its checksum matched, and streams one `R` per
 * file back. Results are written between reads, so a client that stops reading stops this
 * one (TCP back-pressure) and meets the stall deadline, never a growing queue.
 */
export class TreeUploadSink {
  readonly #ctx: CommandContext;
  readonly #options: TreeUploadOptions;
  readonly #decoder: TreeDecoder;
  readonly #out: TreeEncoder;
  /** Open folders by record path ("" is the root, never closed here); oldest first. */
  readonly #dirs = new Map<string, number>();
  /** Folders with a commit not yet flushed to disk. */
  readonly #dirty = new Set<number>();
  #file: Incoming | undefined;
  /** Small verified files waiting for their batch, their bytes in `#arena`. */
  #batch: (StagedFile & { readonly rel: string })[] = [];
  #arena = Buffer.allocUnsafeSlow(BATCH_BYTES + SMALL_FILE);
  #used = 0;
  /** The batches sent to the pool and not yet answered, as one wait. */
  #inflight: Promise<void> = Promise.resolve();
  #files = 0;
  #committed = 0;
  #failed = 0;
  #bytes = 0;

  constructor(ctx: CommandContext, options: TreeUploadOptions) {
    this.#ctx = ctx;
    this.#options = options;
    this.#decoder = new TreeDecoder({
      maxChunk: ctx.limits.maxChunk,
      maxTrailer: ctx.limits.maxControlFrame,
      alg: options.alg,
      errorCode: "BFTP_ERR_BAD_REQUEST",
    });
    this.#out = new TreeEncoder(ctx.limits.maxChunk);
  }

  /** Reads the records to their trailer, answers each file, then sends the final reply. */
  async run(): Promise<void> {
    const started = Date.now();
    let failure: BftpError | undefined;
    try {
      failure = await this.#records();
      await this.#runBatch();
      await this.#flush(true);
    } catch (err) {
      // The stream can no longer be trusted: end the results with this error (best effort)
      // and the connection after it. What was committed stays; staging files go.
      // The files that arrived whole and verified are committed still: they are complete.
      await this.#runBatch().catch(() => undefined);
      await this.#cleanUp(); // flushes the folders of committed files
      const fatal = asFatal(err);
      if (!this.#ctx.socket.destroyed) {
        await writeAll(
          this.#ctx.socket,
          Buffer.concat([this.#out.take(), this.#out.finish(toWireError(fatal))]),
          { timeout: this.#ctx.limits.stallTimeoutMs },
        ).catch(() => undefined);
      }
      this.#log(started, fatal.code);
      throw fatal;
    }
    await this.#cleanUp();
    await writeAll(this.#ctx.socket, Buffer.concat([this.#out.take(), this.#out.finish()]), {
      timeout: this.#ctx.limits.stallTimeoutMs,
    });
    this.#log(started, failure?.code ?? "ok");
    if (failure !== undefined) throw failure;
    await this.#ctx.reply({
      files: this.#files,
      committed: this.#committed,
      failed: this.#failed,
      ...(this.#options.held === undefined ? {} : { held: this.#options.held }),
      bytes: this.#bytes,
    });
  }

  /** The records phase; returns the client's abort or a phase checksum mismatch, if any. */
  async #records(): Promise<BftpError | undefined> {
    const { reader } = this.#ctx;
    const waits = { timeout: this.#ctx.limits.stallTimeoutMs };
    for (;;) {
      let chunk: Buffer;
      try {
        chunk = await reader.readSome(Math.min(this.#decoder.want(), READ_BYTES), waits);
      } catch (err) {
        if (isBftpError(err, "BFTP_ERR_PEER_CLOSED")) {
          throw new BftpError("BFTP_ERR_UNEXPECTED_EOF", "Cannot finish the tree: the peer closed");
        }
        throw err;
      }
      for (const event of this.#decoder.push(chunk)) {
        if (event.type === "trailer") {
          return event.error === undefined ? undefined : remoteOf(event.error);
        }
        await this.#event(event);
      }
      // Whenever no more records are at hand, the results go out: a client that waits for
      // them before sending more (a bound of its own) is never left waiting (§8.14).
      await this.#flush(reader.buffered === 0);
    }
  }

  async #event(event: Exclude<TreeEvent, { type: "trailer" }>): Promise<void> {
    switch (event.type) {
      case "folder":
        await this.#folder(event.path);
        return;
      case "file":
        this.#files++;
        this.#file = {
          rel: event.path,
          virtual: this.#virtual(event.path),
          mtime: event.mtime,
          position: 0,
          size: event.size,
        };
        await this.#start(this.#file);
        return;
      case "data":
        await this.#data(this.#file as Incoming, event.bytes);
        return;
      case "end":
        await this.#end(this.#file as Incoming, event.error);
        this.#file = undefined;
        return;
      default:
        throw new BftpError(
          "BFTP_ERR_BAD_REQUEST",
          `Cannot read the tree: a ${event.type} record in an upload`,
          { connectionUsable: false },
        );
    }
  }

  /** An `F`: the folder is made (one name, in its open parent); a refused one is skipped. */
  async #folder(rel: string): Promise<void> {
    if (refusal(rel, this.#virtual(rel)) !== undefined) return; // its files are refused too
    const cut = rel.lastIndexOf("/");
    try {
      const parent = await this.#dir(cut < 0 ? "" : rel.slice(0, cut));
      await mkdir(`/proc/self/fd/${parent}/${rel.slice(cut + 1)}`, 0o755).catch((err: unknown) => {
        if ((err as { code?: unknown }).code !== "EEXIST") throw err;
      });
    } catch {
      // Its files say why, each in its R (their folder cannot be opened).
    }
  }

  /** An `H`: its path checked, its folder opened, its staging file created. */
  async #start(file: Incoming): Promise<void> {
    file.error = refusal(file.rel, file.virtual);
    if (file.error !== undefined) return;
    if (this.#ctx.windingDown) {
      file.error = new BftpError(
        "BFTP_ERR_SHUTTING_DOWN",
        `Cannot commit ${JSON.stringify(file.virtual)}: the server is shutting down`,
      );
      return;
    }
    const cut = file.rel.lastIndexOf("/");
    const name = file.rel.slice(cut + 1);
    try {
      file.dirFd = await this.#dir(cut < 0 ? "" : file.rel.slice(0, cut));
      file.name = name;
      if (file.size <= SMALL_FILE) {
        // Its bytes go to the batch buffer; the worker stages and commits it (link: EEXIST
        // if the name exists; rename over a folder: EISDIR).
        if (this.#used + file.size > this.#arena.length || this.#batch.length >= BATCH_FILES)
          await this.#startBatch();
        file.start = this.#used;
        this.#used += file.size;
        return;
      }
      const existing = await lstat(`/proc/self/fd/${file.dirFd}/${name}`).catch(() => undefined);
      if (existing?.isDirectory() === true) {
        throw new BftpError(
          "BFTP_ERR_IS_A_DIRECTORY",
          `Cannot upload to ${JSON.stringify(file.virtual)}: it is a directory`,
        );
      }
      if (existing !== undefined && !this.#options.overwrite) {
        throw new BftpError(
          "BFTP_ERR_EXISTS",
          `Cannot create ${JSON.stringify(file.virtual)}: it exists`,
        );
      }
      const staging = `${this.#options.area}/${partName()}`;
      file.fd = await open(staging, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o644);
      file.staging = staging;
      file.untrack = this.#ctx.trackTemp(staging); // removed by the session if it dies first
    } catch (err) {
      file.error = fsError(err, "upload to", file.virtual);
    }
  }

  async #data(file: Incoming, bytes: Buffer): Promise<void> {
    if (file.error !== undefined) return;
    if (file.start !== undefined) {
      bytes.copy(this.#arena, file.start + file.position); // the decoder checked the size
      file.position += bytes.length;
      return;
    }
    if (file.fd === undefined) return;
    try {
      for (let at = 0; at < bytes.length;) {
        const { bytesWritten } = await write(file.fd, bytes, at, bytes.length - at, file.position);
        at += bytesWritten;
        file.position += bytesWritten;
      }
    } catch (err) {
      file.error = fsError(err, "write", file.virtual);
      await this.#drop(file);
    }
  }

  /** An `E`: a verified file is flushed, stamped and committed; any file gets its `R`. */
  async #end(file: Incoming, error: WireError | undefined): Promise<void> {
    if (error !== undefined && file.error === undefined) file.error = remoteOf(error);
    if (file.start !== undefined) {
      if (file.error === undefined) {
        this.#batch.push({
          rel: file.rel,
          dirFd: file.dirFd as number,
          name: file.name as string,
          staging: `${this.#options.area}/${partName()}`,
          start: file.start,
          size: file.size,
          mtime: file.mtime,
          virtual: file.virtual,
        });
        file.start = undefined; // its bytes are the batch's now
        if (this.#used >= BATCH_BYTES) await this.#startBatch();
        return;
      }
      this.#used = file.start; // the last bytes reserved: given back
      file.start = undefined;
    }
    // Results go out in the order of the files: the batch before this one's.
    await this.#runBatch();
    if (file.error === undefined && file.fd !== undefined) {
      try {
        await fsync(file.fd);
        await futimes(file.fd, Date.now() / 1000, exactSeconds(file.mtime));
        const fd = file.fd;
        file.fd = undefined;
        await close(fd);
        await this.#commit(file);
        this.#committed++;
        this.#bytes += file.position;
        this.#result(file.rel);
        return;
      } catch (err) {
        file.error = fsError(err, "create", file.virtual);
      }
    }
    await this.#drop(file);
    this.#failed++;
    this.#result(
      file.rel,
      toWireError(file.error ?? new BftpError("BFTP_ERR_INTERNAL", "internal error")),
    );
  }

  /** Puts the staged file under its name in one atomic step (link: never over another). */
  async #commit(file: Incoming): Promise<void> {
    const staging = file.staging as string;
    const target = `/proc/self/fd/${file.dirFd}/${file.name}`;
    if (this.#options.overwrite) await rename(staging, target);
    else {
      await link(staging, target); // EEXIST if the name appeared meanwhile
      await unlink(staging);
    }
    file.staging = undefined;
    file.untrack?.();
    this.#dirty.add(file.dirFd as number);
  }

  #result(rel: string, error?: WireError): void {
    this.#out.result(rel, error);
  }

  /** Commits the batch of small files and waits for every batch: their results are added. */
  async #runBatch(): Promise<void> {
    this.#dispatch();
    await this.#inflight;
  }

  /**
   * Starts the batch once the one before it is done: one batch is committed on the pool while
   * the next fills here (at most two buffers besides the one filling).
   */
  async #startBatch(): Promise<void> {
    await this.#inflight;
    this.#dispatch();
  }

  /**
   * Sends the batch of small files to the worker pool; its results are added, after those of
   * the batch before it, when it answers. Its staging files are the session's to remove until
   * then (the worker removes those it could not commit); a batch that missed its deadline
   * ends the connection, and they are removed with it.
   */
  #dispatch(): void {
    const batch = this.#batch;
    if (batch.length === 0) return;
    // A small file still arriving has the last bytes reserved: they move to the next buffer.
    const open = this.#file?.start === undefined ? undefined : this.#file;
    const old = this.#arena;
    const bytes = old.subarray(0, open?.start ?? this.#used);
    this.#batch = [];
    this.#arena = Buffer.allocUnsafeSlow(BATCH_BYTES + SMALL_FILE);
    this.#used = 0;
    if (open?.start !== undefined) {
      old.copy(this.#arena, 0, open.start, open.start + open.position);
      open.start = 0;
      this.#used = open.size;
    }
    const untrack = batch.map((f) => this.#ctx.trackTemp(f.staging));
    const running = sharedFsPool().run<WriteFilesResult>(
      {
        op: "writeFiles",
        overwrite: this.#options.overwrite,
        bytes,
        files: batch.map(({ rel: _rel, ...staged }) => staged),
      },
      BATCH_TIMEOUT_MS,
    );
    running.catch(() => undefined); // awaited below, after the batch before it
    const previous = this.#inflight;
    const done = (async (): Promise<void> => {
      await previous;
      const { errors } = await running;
      for (const stop of untrack) stop();
      batch.forEach((file, i) => {
        const error = errors[i] ?? undefined;
        if (error === undefined) {
          this.#committed++;
          this.#bytes += file.size;
          this.#result(file.rel);
        } else {
          this.#failed++;
          this.#result(file.rel, error);
        }
      });
    })();
    done.catch(() => undefined); // awaited by the next wait for the batches
    this.#inflight = done;
  }

  /** Closes and removes a file's staging file, if any. */
  async #drop(file: Incoming): Promise<void> {
    if (file.fd !== undefined) await close(file.fd).catch(() => undefined);
    file.fd = undefined;
    if (file.staging !== undefined) await unlink(file.staging).catch(() => undefined);
    file.staging = undefined;
    file.untrack?.();
  }

  /**
   * Sends the results built so far once past `RESULT_BYTES` (or always, with `all`), in the
   * order of the files: the folders of committed files are flushed first, so an `R` that
   * says committed is durable, and one flush of a folder serves many files.
   */
  async #flush(all: boolean): Promise<void> {
    if (all) await this.#runBatch();
    else if (this.#out.length < RESULT_BYTES) return;
    for (const fd of this.#dirty) await fsync(fd);
    this.#dirty.clear();
    if (this.#out.length === 0) return;
    await writeAll(this.#ctx.socket, this.#out.take(), {
      timeout: this.#ctx.limits.stallTimeoutMs,
    });
  }

  /**
   * The open folder at `rel`, reached one name at a time from the root with O_NOFOLLOW: a
   * folder swapped for a link is refused (ELOOP), never followed (sandbox.ts's rule).
   */
  async #dir(rel: string): Promise<number> {
    if (rel === "") return this.#options.rootFd;
    const known = this.#dirs.get(rel);
    if (known !== undefined) return known;
    const cut = rel.lastIndexOf("/");
    const parent = await this.#dir(cut < 0 ? "" : rel.slice(0, cut));
    let fd: number;
    try {
      fd = await open(
        `/proc/self/fd/${parent}/${rel.slice(cut + 1)}`,
        O_RDONLY | O_DIRECTORY | O_NOFOLLOW,
      );
    } catch (err) {
      throw fsError(err, "open", this.#virtual(rel));
    }
    if (this.#dirs.size >= MAX_OPEN_DIRS) {
      await this.#runBatch(); // its files may go to the folder about to be closed
      const [oldRel, oldFd] = this.#dirs.entries().next().value as [string, number];
      this.#dirs.delete(oldRel);
      if (this.#dirty.delete(oldFd)) await fsync(oldFd).catch(() => undefined);
      await close(oldFd).catch(() => undefined);
    }
    this.#dirs.set(rel, fd);
    return fd;
  }

  /** Removes the staging file in progress and closes every folder (flushing those written). */
  async #cleanUp(): Promise<void> {
    if (this.#file !== undefined) await this.#drop(this.#file);
    this.#file = undefined;
    for (const fd of this.#dirs.values()) {
      if (this.#dirty.has(fd)) await fsync(fd).catch(() => undefined);
      await close(fd).catch(() => undefined);
    }
    if (this.#dirty.has(this.#options.rootFd))
      await fsync(this.#options.rootFd).catch(() => undefined);
    this.#dirty.clear();
    this.#dirs.clear();
  }

  #virtual(rel: string): string {
    return `${this.#options.virtualRoot}/${rel}`;
  }

  #log(started: number, result: string): void {
    this.#ctx.log.info("puttree", {
      peer: this.#ctx.peer,
      path: this.#options.virtualRoot || "/",
      files: this.#files,
      committed: this.#committed,
      failed: this.#failed,
      bytes: this.#bytes,
      ms: Date.now() - started,
      result,
    });
  }
}

/**
 * Why a record path is refused (§8.14), or undefined: not a relative path of plain names
 * (`..`, absolute, empty names, control characters), or a name the server reserves (§6).
 */
function refusal(rel: string, virtual: string): BftpError | undefined {
  if (isRecordPath(rel) && !rel.split("/").some((name) => name.startsWith(TEMP_PREFIX)))
    return undefined;
  return new BftpError(
    "BFTP_ERR_PATH_REFUSED",
    `Cannot upload to ${JSON.stringify(virtual)}: not a plain relative path inside the folder`,
  );
}

/**
 * A failure the client's stream reported: its own error (an abort, whatever code it sent) or
 * a checksum that did not match here.
 */
function remoteOf(error: WireError): BftpError {
  if (error.code === "BFTP_ERR_CHECKSUM_MISMATCH")
    return new BftpError("BFTP_ERR_CHECKSUM_MISMATCH", error.message);
  return new BftpError("BFTP_ERR_TRANSFER_ABORTED", "Cannot commit: the client aborted the file");
}

/** An error after the reply: the connection cannot go on after it. */
function asFatal(err: unknown): BftpError {
  if (isBftpError(err) && err.connectionUsable === false) return err;
  if (isBftpError(err))
    return new BftpError(err.code, err.message, { cause: err, connectionUsable: false });
  return new BftpError("BFTP_ERR_INTERNAL", "internal error", {
    cause: err,
    connectionUsable: false,
  });
}
