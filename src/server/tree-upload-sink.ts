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
import { logTransfer } from "./transfer-log.js";
import { fsError } from "./fs-error.js";
import { TEMP_PREFIX } from "./sandbox.js";
import { partName } from "./temp-files.js";
import { CommitBatches, SMALL_FILE, type Slot } from "./tree-upload-batches.js";
import { UploadFolders } from "./tree-upload-folders.js";
import { LargeUpload } from "./tree-upload-large.js";

const mkdir = promisify(fs.mkdir);

/** Most bytes one read takes from the socket: the results are flushed between reads. */
const READ_BYTES = 1024 * 1024;
/** Results held before they are written, whatever the records (a bound, §8.14). */
const RESULT_BYTES = 64 * 1024;

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
  /** A file too large for a batch: its staging file, written as its bytes arrive. */
  large?: LargeUpload | undefined;
  position: number;
  readonly size: number;
  /** Its room in the batch buffer, when it is small enough to be batched. */
  slot?: Slot | undefined;
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
  /** The target's folders, opened name by name. */
  readonly #folders: UploadFolders;
  #file: Incoming | undefined;
  /** Small verified files, committed in batches on the worker pool. */
  readonly #batches: CommitBatches;
  /** The records loop waits for bytes: an answered batch sends the one filled meanwhile. */
  #idle = false;
  /** The results written so far, one write after another (see {@link #send}). */
  #writing: Promise<void> = Promise.resolve();
  /** Why a results write failed, if one did; the records loop throws it. */
  #writeFailure: Error | undefined;
  #files = 0;
  #committed = 0;
  #failed = 0;
  #bytes = 0;

  constructor(ctx: CommandContext, options: TreeUploadOptions) {
    this.#ctx = ctx;
    this.#options = options;
    this.#folders = new UploadFolders(options.rootFd, (rel) => this.#virtual(rel));
    this.#batches = new CommitBatches({
      overwrite: options.overwrite,
      // One random `part-` name per tree and the file's number (a random draw per file cost
      // more than its write).
      staging: `${options.area}/${partName()}-`,
      trackTemp: (path) => ctx.trackTemp(path),
      onResult: (file, error) => {
        if (error === undefined) {
          this.#committed++;
          this.#bytes += file.size;
        } else this.#failed++;
        this.#result(file.rel, error);
      },
      onAnswered: () => {
        // The records loop waits for bytes: what it filled meanwhile goes now, and the results
        // go out without waiting for the loop (a failed write is kept for it to throw).
        if (this.#idle && !this.#batches.busy) this.#batches.dispatch();
        this.#send().catch(() => undefined);
      },
    });
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
      await this.#settle();
    } catch (err) {
      // The stream can no longer be trusted: end the results with this error (best effort)
      // and the connection after it. What was committed stays; staging files go.
      // The files that arrived whole and verified are committed still: they are complete.
      await this.#settle().catch(() => undefined);
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
      // Bytes at hand are taken without a promise; only an empty queue is awaited.
      const want = Math.min(this.#decoder.want(), READ_BYTES);
      let chunk = reader.readSomeNow(want);
      if (chunk === undefined) {
        try {
          this.#idle = true;
          chunk = await reader.readSome(want, waits);
        } catch (err) {
          if (isBftpError(err, "BFTP_ERR_PEER_CLOSED")) {
            throw new BftpError(
              "BFTP_ERR_UNEXPECTED_EOF",
              "Cannot finish the tree: the peer closed",
            );
          }
          throw err;
        } finally {
          this.#idle = false;
        }
      }
      for (const event of this.#decoder.push(chunk)) {
        if (event.type === "trailer") {
          return event.error === undefined ? undefined : remoteOf(event.error);
        }
        // Most records are handled at once (a small file's bytes go to the batch buffer);
        // only those that wait on the disk or the pool return a promise (issue 12).
        const pending = this.#event(event);
        if (pending !== undefined) await pending;
      }
      // Whenever no more records are at hand, the batch goes to the pool (unless one is there:
      // then it goes when that one is answered) and the results at hand go out, so a client
      // that waits for them before sending more (a bound of its own) is never left waiting
      // (§8.14). The records loop does not wait for the pool: reading, checking and the
      // pool's writes overlap.
      if (reader.buffered === 0) {
        if (!this.#batches.busy) this.#batches.dispatch();
        await this.#send();
      } else if (this.#out.length >= RESULT_BYTES) await this.#send();
    }
  }

  #event(event: Exclude<TreeEvent, { type: "trailer" }>): Promise<void> | undefined {
    switch (event.type) {
      case "folder":
        return this.#folder(event.path);
      case "file":
        this.#files++;
        this.#file = {
          rel: event.path,
          virtual: this.#virtual(event.path),
          mtime: event.mtime,
          position: 0,
          size: event.size,
        };
        return this.#start(this.#file);
      case "data":
        return this.#data(this.#file as Incoming, event.bytes);
      case "end": {
        const ending = this.#end(this.#file as Incoming, event.error);
        if (ending === undefined) {
          this.#file = undefined;
          return undefined;
        }
        return ending.then(() => {
          this.#file = undefined;
        });
      }
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
      const parent = await this.#folders.open(cut < 0 ? "" : rel.slice(0, cut), this.#settling);
      await mkdir(`/proc/self/fd/${parent}/${rel.slice(cut + 1)}`, 0o755).catch((err: unknown) => {
        if ((err as { code?: unknown }).code !== "EEXIST") throw err;
      });
    } catch {
      // Its files say why, each in its R (their folder cannot be opened).
    }
  }

  /**
   * An `H`: its path checked, its folder opened, its staging file created. A small file whose
   * folder is open and whose batch has room is done here and now; else the promise.
   */
  #start(file: Incoming): Promise<void> | undefined {
    file.error = refusal(file.rel, file.virtual);
    if (file.error !== undefined) return undefined;
    if (this.#ctx.windingDown) {
      file.error = new BftpError(
        "BFTP_ERR_SHUTTING_DOWN",
        `Cannot commit ${JSON.stringify(file.virtual)}: the server is shutting down`,
      );
      return undefined;
    }
    const cut = file.rel.lastIndexOf("/");
    const name = file.rel.slice(cut + 1);
    const dir = cut < 0 ? "" : file.rel.slice(0, cut);
    if (file.size <= SMALL_FILE) {
      const dirFd = this.#folders.known(dir);
      const slot = dirFd === undefined ? undefined : this.#batches.reserveNow(file.size);
      if (slot !== undefined) {
        file.dirFd = dirFd;
        file.name = name;
        file.slot = slot;
        if (this.#writeFailure !== undefined)
          file.error = fsError(this.#writeFailure, "upload to", file.virtual);
        return undefined;
      }
    }
    return this.#open(file, dir, name);
  }

  /** The rest of {@link #start}, when the folder must be opened or the batch has no room. */
  async #open(file: Incoming, dir: string, name: string): Promise<void> {
    try {
      file.dirFd = await this.#folders.open(dir, this.#settling);
      file.name = name;
      if (file.size <= SMALL_FILE) {
        // Its bytes go to the batch buffer; the worker stages and commits it (link: EEXIST
        // if the name exists; rename over a folder: EISDIR).
        file.slot = await this.#batches.reserve(file.size);
        if (this.#writeFailure !== undefined) throw this.#writeFailure;
        return;
      }
      file.large = await LargeUpload.start({
        dirFd: file.dirFd,
        name,
        virtual: file.virtual,
        area: this.#options.area,
        overwrite: this.#options.overwrite,
        trackTemp: (path) => this.#ctx.trackTemp(path), // removed by the session if it dies first
      });
    } catch (err) {
      file.error = fsError(err, "upload to", file.virtual);
    }
  }

  #data(file: Incoming, bytes: Buffer): Promise<void> | undefined {
    if (file.error !== undefined) return undefined;
    if (file.slot !== undefined) {
      this.#batches.copy(file.slot, bytes, file.position); // the decoder checked the size
      file.position += bytes.length;
      return undefined;
    }
    if (file.large === undefined) return undefined;
    return this.#write(file, file.large, bytes);
  }

  /** A large file's bytes, written to its staging file as they arrive. */
  async #write(file: Incoming, large: LargeUpload, bytes: Buffer): Promise<void> {
    try {
      await large.write(bytes, file.position);
      file.position += bytes.length;
    } catch (err) {
      file.error = fsError(err, "write", file.virtual);
      await this.#drop(file);
    }
  }

  /**
   * An `E`: a verified file is flushed, stamped and committed; any file gets its `R`. A small
   * verified file joins the batch here and now (a promise only when the batch is full).
   */
  #end(file: Incoming, error: WireError | undefined): Promise<void> | undefined {
    if (error !== undefined && file.error === undefined) file.error = remoteOf(error);
    if (file.slot !== undefined) {
      const { slot } = file;
      file.slot = undefined; // its bytes are the batch's now, or given back
      if (file.error === undefined) {
        return this.#batches.add(slot, {
          rel: file.rel,
          virtual: file.virtual,
          dirFd: file.dirFd as number,
          name: file.name as string,
          serial: this.#files,
          mtime: file.mtime,
        });
      }
      this.#batches.release(slot);
    }
    return this.#finish(file);
  }

  /** The rest of {@link #end}: a large file committed, or any failed file's `R`. */
  async #finish(file: Incoming): Promise<void> {
    // Results go out in the order of the files: the batch before this one's.
    await this.#batches.runAll();
    if (file.error === undefined && file.large !== undefined) {
      try {
        await file.large.commit(file.mtime);
        file.large = undefined;
        this.#folders.written(file.dirFd as number);
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

  #result(rel: string, error?: WireError): void {
    this.#out.result(rel, error);
  }

  /** Closes and removes a file's staging file, if any. */
  async #drop(file: Incoming): Promise<void> {
    await file.large?.drop();
    file.large = undefined;
  }

  /**
   * Sends the results built so far, in the order of the files, after every write before it
   * (the records loop and an answered batch both send). The folders of committed files are
   * flushed first, so an `R` that says committed is durable, and one flush of a folder
   * serves many files; a folder written meanwhile is flushed again before the results go.
   * A failed write is kept for the records loop to throw.
   */
  #send(): Promise<void> {
    const next = this.#writing.then(async () => {
      if (this.#writeFailure !== undefined) throw this.#writeFailure;
      await this.#folders.flush();
      if (this.#out.length === 0) return;
      await writeAll(this.#ctx.socket, this.#out.take(), {
        timeout: this.#ctx.limits.stallTimeoutMs,
      });
    });
    this.#writing = next.catch((err: unknown) => {
      this.#writeFailure ??= asFatal(err);
    });
    return next;
  }

  /** Every batch answered and every result written: nothing runs beside the caller. */
  async #settle(): Promise<void> {
    await this.#batches.runAll();
    await this.#send();
  }

  /** {@link #settle} as a value, for the folders (before one is closed to make room). */
  readonly #settling = (): Promise<void> => this.#settle();

  /** Removes the staging file in progress and closes every folder (flushing those written). */
  async #cleanUp(): Promise<void> {
    if (this.#file !== undefined) await this.#drop(this.#file);
    this.#file = undefined;
    await this.#folders.closeAll();
  }

  #virtual(rel: string): string {
    return `${this.#options.virtualRoot}/${rel}`;
  }

  #log(started: number, result: string): void {
    logTransfer(this.#ctx.log, this.#ctx.metrics, {
      front: "bftp",
      direction: "put",
      kind: "tree",
      user: this.#ctx.user,
      peer: this.#ctx.peer,
      path: this.#options.virtualRoot || "/",
      files: this.#files,
      committed: this.#committed,
      failed: this.#failed,
      ...(this.#options.held === undefined ? {} : { held: this.#options.held }),
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
  // No name may start with the staging prefix: at the start, or after a separator.
  if (isRecordPath(rel) && !rel.startsWith(TEMP_PREFIX) && !rel.includes(`/${TEMP_PREFIX}`))
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
