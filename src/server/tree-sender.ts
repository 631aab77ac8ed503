import fs from "node:fs";
import fsp, { type FileHandle } from "node:fs/promises";
import { promisify } from "node:util";
import { BftpError, isBftpError } from "../errors.js";
import { remoteError, toWireError } from "../protocol/replies.js";
import { createChecksum, updateWithCrc } from "../protocol/checksum.js";
import { TreeEncoder } from "../protocol/tree-encoder.js";
import type { HaveEntry, ListEntry } from "../protocol/tree-records.js";
import type { ChecksumAlg } from "../protocol/version.js";
import { writeAll } from "../wire/write-all.js";
import type { CommandContext } from "./command-context.js";
import { logTransfer } from "./transfer-log.js";
import { sameVersion } from "./file-version.js";
import type { FsPool } from "./fs-pool.js";
import { fsError } from "./fs-error.js";
import { normalizeVirtual, virtualChild } from "./sandbox.js";
import type { DirListing, OpenedBig, ReadFilesResult, ReadItem } from "./tree-jobs.js";
import { abortRequested } from "./commands/abort.js";

/** Bytes of records one batch builds: large writes, and ABORT is looked for this often. */
const BATCH_BYTES = 1024 * 1024;
/** Files one batch may read (bounds the job message whatever the sizes). */
const BATCH_FILES = 512;
/**
 * Files the stream's first batch may read: the receiver idles until it arrives (about 45 µs
 * a small file here, so 512 would be some 25 ms); later batches grow by 4 to BATCH_FILES.
 */
const FIRST_BATCH_FILES = 32;
/** Deadline of one file-system batch (PROTOCOL.md §8.13, §11). */
const BATCH_TIMEOUT_MS = 30_000;
const fstat = promisify(fs.fstat);
const close = promisify(fs.close);

/** Options for {@link TreeSender}. */
export interface SenderOptions {
  readonly pool: FsPool;
  readonly alg: ChecksumAlg;
  readonly have: Map<string, HaveEntry> | undefined;
  readonly virtualRoot: string;
}

/** One GETTREE's data phase: the walk, the batches, the writes, in order. */
export class TreeSender {
  readonly #ctx: CommandContext;
  readonly #options: SenderOptions;
  readonly #out: TreeEncoder;
  readonly #maxChunk: number;
  /** The write in flight; the next one waits for it. */
  #writing: Promise<void> = Promise.resolve();
  #files = 0;
  #bytes = 0;
  /** Files the next batch may read: small first, so the receiver starts sooner. */
  #batchFiles = FIRST_BATCH_FILES;
  /**
   * The text of the last list entry normalised in full, up to and including its last slash,
   * when that text names the entry's folder (its last name was a plain one).
   */
  #rawFolder: string | undefined;
  /** Where each list entry's folder is (the list form), found once. */
  readonly #parents: (
    { dir: string; name: string | null } | { dir: undefined; error: BftpError }
  )[] = [];

  constructor(ctx: CommandContext, options: SenderOptions) {
    this.#ctx = ctx;
    this.#options = options;
    this.#maxChunk = ctx.limits.maxChunk;
    this.#out = new TreeEncoder(this.#maxChunk);
  }

  run(rootPath: string, reply: Buffer): Promise<void> {
    return this.#phase(reply, async () => {
      const root = await this.#job<DirListing>({
        op: "openDir",
        parent: rootPath,
        name: null,
        virtual: this.#options.virtualRoot || "/",
      });
      if (root.error !== undefined) throw remoteError(root.error);
      await this.#folder(rootPath, "", root);
    });
  }

  /**
   * The list form: runs of paths in the same folder share one sandbox open, and their names
   * are read in batches, each looked at as it is opened; a folder is its `F` record and its
   * subtree; each path the sandbox refuses, or that is missing, is one `S` record with its error.
   */
  runList(base: string, list: readonly ListEntry[], reply: Buffer): Promise<void> {
    return this.#phase(reply, async () => {
      let at = 0;
      while (at < list.length) {
        const parent = this.#parentOf(base, list, at);
        let end = at + 1;
        while (end < list.length && this.#parentOf(base, list, end).dir === parent.dir) end++;
        await this.#listRun(parent.dir, at, end, "error" in parent ? parent.error : undefined);
        at = end;
      }
    });
  }

  /** The folder (virtual) that holds list entry `i`, or why its path is refused. */
  #parentOf(
    base: string,
    list: readonly ListEntry[],
    i: number,
  ): { dir: string; name: string | null } | { dir: undefined; error: BftpError } {
    const cached = this.#parents[i];
    if (cached !== undefined) return cached;
    const input = list[i]?.path ?? "";
    // A path beside the one before it (the same text up to its last slash): only its name
    // is checked, by the same rules (sandbox.ts); anything else is normalised in full.
    const previous = this.#parents[i - 1];
    const prefix = this.#rawFolder;
    if (
      previous?.dir !== undefined &&
      prefix !== undefined &&
      input.startsWith(prefix) &&
      virtualChild(previous.dir, input, prefix.length) !== undefined
    ) {
      const found = { dir: previous.dir, name: input.slice(prefix.length) };
      this.#parents[i] = found;
      return found;
    }
    let found: { dir: string; name: string | null } | { dir: undefined; error: BftpError };
    this.#rawFolder = undefined;
    try {
      const virtual = normalizeVirtual(base, input);
      const slash = virtual.lastIndexOf("/");
      found =
        virtual === "/"
          ? { dir: "/", name: null }
          : { dir: virtual.slice(0, slash) || "/", name: virtual.slice(slash + 1) };
      // Its text up to the last slash stands for `found.dir` when what follows is the name.
      const rawSlash = input.lastIndexOf("/");
      if (found.name !== null && input.slice(rawSlash + 1) === found.name)
        this.#rawFolder = input.slice(0, rawSlash + 1);
    } catch (err) {
      found = { dir: undefined, error: asBftp(err) };
    }
    this.#parents[i] = found;
    return found;
  }

  async #listRun(
    dir: string | undefined,
    from: number,
    to: number,
    refused: BftpError | undefined,
  ): Promise<void> {
    const fail = (error: BftpError): void => {
      for (let i = from; i < to; i++) this.#out.skip(String(i), "other", toWireError(error));
    };
    if (dir === undefined) {
      fail(refused ?? new BftpError("BFTP_ERR_BAD_REQUEST", "bad path"));
      return;
    }
    let opened;
    try {
      opened = await this.#ctx.openInside(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    } catch (err) {
      if (isBftpError(err) && err.status !== undefined) {
        fail(err);
        return;
      }
      throw err;
    }
    try {
      const virtualDir = opened.virtual === "/" ? "" : opened.virtual;
      // Each name is looked at as the worker opens it (`probe`): no listing of the folder and
      // no lookup ahead, so the first file is read as soon as the list is. Three files of a
      // folder of a million cost three opens, and past MAX_DIR_ENTRIES still work.
      let files: ReadItem[] = [];
      for (let i = from; i < to; i++) {
        const found = this.#parents[i];
        const name = found?.dir === undefined ? null : found.name;
        const rel = String(i);
        if (name !== null) {
          const have = this.#options.have?.get(rel);
          files.push(have === undefined ? { name, rel } : { name, rel, have });
          continue;
        }
        // The folder itself (the root): its whole subtree under this index.
        await this.#readBatches(opened.path, virtualDir, files, true);
        files = [];
        const listing = await this.#job<DirListing>({
          op: "openDir",
          parent: opened.path,
          name: null,
          virtual: opened.virtual,
        });
        if (listing.error !== undefined) {
          this.#out.skip(rel, "dir", listing.error);
          continue;
        }
        this.#out.folder(rel);
        await this.#folder(opened.path, rel, listing, virtualDir);
      }
      await this.#readBatches(opened.path, virtualDir, files, true);
    } finally {
      await opened.handle.close();
    }
  }

  /** Opens, announces (`F`) and sends one subfolder and all below it. */
  async #subfolder(path: string, virtualDir: string, name: string, rel: string): Promise<void> {
    this.#checkAbort();
    const child = await this.#job<DirListing>({
      op: "openDir",
      parent: path,
      name,
      virtual: `${virtualDir}/${name}`,
    });
    if (child.error !== undefined) {
      this.#out.skip(rel, "dir", child.error);
      return;
    }
    try {
      this.#out.folder(rel);
      await this.#folder(`/proc/self/fd/${child.fd}`, rel, child, `${virtualDir}/${name}`);
    } finally {
      await close(child.fd);
    }
  }

  /** The phase around a walk: the reply, the walk, the terminator and trailer, the log line. */
  async #phase(reply: Buffer, walk: () => Promise<void>): Promise<void> {
    const started = Date.now();
    await this.#write(reply);
    let failure: BftpError | undefined;
    try {
      await walk();
    } catch (err) {
      // The reply has gone out: whatever happens now (an abort, a deadline, a shutdown, a
      // fault) can only be said in the trailer. A connection that failed cannot be told.
      if (this.#ctx.socket.destroyed) throw lost(err);
      failure =
        err instanceof BftpError
          ? err
          : new BftpError("BFTP_ERR_INTERNAL", "internal error", { cause: err });
      if (failure.status === undefined)
        this.#ctx.log.error("internal", {
          peer: this.#ctx.peer,
          op: "GETTREE",
          error: String(err),
        });
    }
    try {
      await this.#writing;
      await this.#write(
        Buffer.concat([this.#out.take(), this.#out.finish(failure && toWireError(failure))]),
      );
      await this.#writing;
    } catch (err) {
      throw lost(err);
    }
    logTransfer(this.#ctx.log, this.#ctx.metrics, {
      front: "bftp",
      direction: "get",
      kind: "tree",
      user: this.#ctx.user,
      peer: this.#ctx.peer,
      path: this.#options.virtualRoot || "/",
      files: this.#files,
      bytes: this.#bytes,
      ms: Date.now() - started,
      result: failure?.code ?? "ok",
    });
  }

  /** A folder's files in batches, then each subfolder (an `F` record, then its contents). */
  async #folder(
    path: string,
    rel: string,
    listing: DirListing,
    virtualDir = `${this.#options.virtualRoot}${rel === "" ? "" : `/${rel}`}`,
  ): Promise<void> {
    const files: ReadItem[] = [];
    const dirs: string[] = [];
    const prefix = rel === "" ? "" : `${rel}/`;
    for (const [name, kind] of listing.entries) {
      const childRel = `${prefix}${name}`;
      if (kind === "dir") dirs.push(name);
      else if (kind === "file") {
        const have = this.#options.have?.get(childRel);
        files.push(have === undefined ? { name, rel: childRel } : { name, rel: childRel, have });
      } else this.#out.skip(childRel, kind);
    }
    await this.#readBatches(path, virtualDir, files);
    for (const name of dirs) await this.#subfolder(path, virtualDir, name, `${prefix}${name}`);
  }

  /**
   * Files of one folder, read on the pool in batches of about 1 MiB of records. With `probe`
   * (the list form) the names are looked at as they are opened, and a folder among them is
   * sent in its place, with all below it.
   */
  async #readBatches(
    path: string,
    virtualDir: string,
    files: readonly ReadItem[],
    probe = false,
  ): Promise<void> {
    let at = 0;
    while (at < files.length) {
      this.#checkAbort();
      const count = this.#batchFiles;
      this.#batchFiles = Math.min(BATCH_FILES, count * 4);
      const batch = await this.#job<ReadFilesResult>({
        op: "readFiles",
        dir: path,
        virtualDir,
        items: files.slice(at, at + count),
        alg: this.#options.alg,
        maxChunk: this.#maxChunk,
        budget: BATCH_BYTES,
        bigAt: BATCH_BYTES,
        crc: this.#out.crc,
        ...(probe ? { probe } : {}),
      });
      at += batch.consumed;
      this.#out.crc = batch.crc;
      this.#files += batch.files;
      this.#bytes += batch.fileBytes;
      await this.#write(
        Buffer.from(batch.bytes.buffer, batch.bytes.byteOffset, batch.bytes.length),
      );
      if (batch.big !== undefined) await this.#bigFile(batch.big);
      if (batch.folder === true) {
        const folder = files[at] as ReadItem;
        at++;
        await this.#subfolder(path, virtualDir, folder.name, folder.rel);
      }
    }
  }

  /**
   * A file too large for a batch, streamed here from the descriptor the worker opened
   * (O_NOFOLLOW), read through a handle on that same file (`/proc/self/fd/N`): one hand-off
   * per MiB costs nothing next to the bytes. Its stamps are compared after the last read.
   */
  async #bigFile(big: OpenedBig): Promise<void> {
    const out = this.#out;
    let handle: FileHandle | undefined;
    try {
      handle = await fsp.open(`/proc/self/fd/${big.fd}`, "r");
      const have = this.#options.have?.get(big.rel);
      if (have !== undefined && have.size === big.size) {
        const same =
          have.sha256 === undefined
            ? have.mtime === big.mtime
            : (await sha256Of(handle, big.size)) === have.sha256;
        if (same) {
          out.kept(big.rel);
          return;
        }
      }
      out.head(big.rel, big.size, big.mtime);
      const sum = createChecksum(this.#options.alg);
      const chunk = Math.min(BATCH_BYTES, this.#maxChunk - 1);
      let position = 0;
      let error: BftpError | undefined;
      while (position < big.size) {
        const stop = abortRequested(this.#ctx);
        if (stop !== undefined) {
          out.endError(toWireError(stop));
          throw stop;
        }
        const frame = out.dataFrame(Math.min(chunk, big.size - position));
        const body = frame.subarray(9); // after the header and the type byte
        let n: number;
        try {
          ({ bytesRead: n } = await handle.read(body, 0, body.length, position));
        } catch (err) {
          error = fsError(err, "read", big.virtual);
          break;
        }
        if (n < body.length) {
          error = changedError(big.virtual); // shorter than when it was opened
          break;
        }
        out.pushFrame(frame, updateWithCrc(sum, body));
        position += n;
        await this.#write(out.take());
      }
      if (error === undefined) {
        const after = await fstat(big.fd, { bigint: true });
        if (!sameVersion(big.stats, after)) error = changedError(big.virtual);
      }
      if (error === undefined) {
        out.endOk(sum.digest());
        this.#files++;
        this.#bytes += big.size;
      } else out.endError(toWireError(error));
    } finally {
      await handle?.close();
      await close(big.fd);
    }
  }

  /** Runs a job on the pool under the batch deadline. */
  #job<T>(job: Parameters<FsPool["run"]>[0]): Promise<T> {
    return this.#options.pool.run<T>(job, BATCH_TIMEOUT_MS);
  }

  /** An ABORT waiting (or a server stopping) ends the tree between records. */
  #checkAbort(): void {
    const stop = abortRequested(this.#ctx);
    if (stop !== undefined) throw stop;
  }

  /**
   * Queues `bytes` after the write in flight (and what the encoder holds); resolves once the
   * write before it is done, so one batch is written while the next is read.
   */
  async #write(bytes: Buffer): Promise<void> {
    const pending = this.#out.length > 0 ? Buffer.concat([this.#out.take(), bytes]) : bytes;
    await this.#writing;
    const writing = writeAll(this.#ctx.socket, pending, {
      timeout: this.#ctx.limits.stallTimeoutMs,
    });
    writing.catch(() => undefined);
    this.#writing = writing;
  }
}

/** The SHA-256 of a file's first `size` bytes, to compare with the receiver's copy (`-c`). */
export async function sha256Of(handle: FileHandle, size: number): Promise<string | undefined> {
  const sum = createChecksum("sha256");
  const buffer = Buffer.allocUnsafe(Math.min(BATCH_BYTES, size));
  for (let position = 0; position < size;) {
    const length = Math.min(buffer.length, size - position);
    const { bytesRead } = await handle.read(buffer, 0, length, position);
    if (bytesRead === 0) return undefined;
    sum.update(buffer.subarray(0, bytesRead));
    position += bytesRead;
  }
  return sum.digest();
}

/** A failure after the reply that leaves no way to answer: the session ends. */
function lost(err: unknown): BftpError {
  return new BftpError(
    "BFTP_ERR_CONNECTION_LOST",
    "Cannot finish the tree: the connection failed",
    {
      cause: err,
      connectionUsable: false,
    },
  );
}

function changedError(virtual: string): BftpError {
  return new BftpError(
    "BFTP_ERR_FILE_CHANGED",
    `Cannot read ${JSON.stringify(virtual)}: the file changed while it was read`,
  );
}

function asBftp(err: unknown): BftpError {
  return isBftpError(err)
    ? err
    : new BftpError("BFTP_ERR_INTERNAL", "internal error", { cause: err });
}
