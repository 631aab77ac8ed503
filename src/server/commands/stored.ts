import { createHash } from "node:crypto";
import { BftpError, isBftpError } from "../../errors.js";
import { FileSender } from "../../protocol/file-sender.js";
import type { RequestOf } from "../../protocol/requests.js";
import { sendDataPhase } from "../../protocol/send-data-phase.js";
import { byteRange, type ByteRange } from "../byte-range.js";
import type { CommandContext } from "../command-context.js";
import { logTransfer } from "../transfer-log.js";
import { fileChanged } from "../file-version.js";
import { LIST_FRAME_BYTES } from "../limits.js";
import { claimBuffers, FIRST_BUFFER } from "../transfer-budget.js";
import { ChunkSink } from "../storage/s3-partials.js";
import { s3Error } from "../storage/s3-store.js";
import { PartWriter } from "../storage/s3-upload.js";
import { objectVersion, S3Storage, type S3ReadHandle } from "../storage/s3-storage.js";
import type { StoredEntry } from "../storage/storage.js";
import { abortRequested } from "./abort.js";
import { listFrames } from "./list.js";
import { logPut, offsetWithoutResumable, phaseFailure, shuttingDown, sizeMismatch } from "./put.js";

/**
 * BFTP's reading and uploading commands on an object store (issue 15): the same requests,
 * replies, data phases and codes as on a disk (PROTOCOL.md §8), through `S3Storage`. The
 * disk keeps its own straight-line paths in get.ts, put.ts and the rest (docs/performance.md);
 * each of those commands comes here first when the session's storage is an object store.
 */

/** The session's storage when it is an object store, else undefined. */
export function objectStore(ctx: CommandContext): S3Storage | undefined {
  const storage = ctx.storage;
  return storage instanceof S3Storage ? storage : undefined;
}

/**
 * GETTREE and PUTTREE work on the disk (the tree worker's batched calls); on an object store
 * HELLO does not announce them, and a client that sends one anyway is refused.
 */
export function refuseOnObjectStore(ctx: CommandContext, op: string): void {
  if (objectStore(ctx) !== undefined) {
    throw new BftpError(
      "BFTP_ERR_NOT_SUPPORTED",
      `Cannot run ${op} on an object store: this server does not announce it; send the files one by one`,
    );
  }
}

/** The wire entry (PROTOCOL.md §8.5) of a stored entry. */
function wireEntry(entry: StoredEntry): {
  name: string;
  type: string;
  size: number;
  mtime: number;
} {
  // The root is named "" on the wire (§8.5); SFTP's attributes call it "/".
  const name = entry.path === "/" ? "" : entry.name;
  return { name, type: entry.type, size: entry.size, mtime: entry.mtime };
}

export async function statStored(
  ctx: CommandContext,
  req: RequestOf<"STAT">,
  storage: S3Storage,
): Promise<void> {
  await ctx.reply({ entry: wireEntry(await storage.stat(ctx.cwd, req.path)) });
}

export async function cdStored(
  ctx: CommandContext,
  req: RequestOf<"CD">,
  storage: S3Storage,
): Promise<void> {
  const entry = await storage.stat(ctx.cwd, req.path);
  if (entry.type !== "dir") {
    throw new BftpError(
      "BFTP_ERR_NOT_A_DIRECTORY",
      `Cannot change directory to ${JSON.stringify(entry.path)}: not a directory`,
    );
  }
  ctx.cwd = entry.path;
  await ctx.reply({ path: ctx.cwd });
}

/** LIST: the folder's entries a page at a time, in frames of at most 64 KiB. */
export async function listStored(
  ctx: CommandContext,
  req: RequestOf<"LIST">,
  storage: S3Storage,
): Promise<void> {
  const folder = await storage.openFolder(ctx.cwd, req.path ?? ".");
  const counted = { count: 0 };
  async function* groups(): AsyncGenerator<string[]> {
    for (
      let entries = await folder.next(256);
      entries.length > 0;
      entries = await folder.next(256)
    ) {
      yield entries.map((entry) => JSON.stringify(wireEntry(entry)));
    }
  }
  try {
    await sendDataPhase(ctx.socket, listFrames(groups(), counted), {
      alg: "crc32",
      maxChunk: LIST_FRAME_BYTES,
      timeout: ctx.limits.stallTimeoutMs,
      prefix: [ctx.replyFrame({ path: folder.path })],
      trailerFields: () => ({ count: counted.count }),
      shouldStop: () => abortRequested(ctx),
    });
  } finally {
    await folder.close();
  }
}

/** Largest read from the store at once (S3 answers arrive 64 KiB per socket read anyway). */
const READ_CHUNK = 256 * 1024;

/**
 * GET: one ranged GetObject streamed to the socket (FileSender: the store's bytes framed as
 * they arrive, up to four buffers rotating, fewer in a crowd: transfer-budget.ts). Every
 * request to the store names the object's ETag, so an object replaced while it is sent ends
 * the phase with `BFTP_ERR_FILE_CHANGED`.
 */
export async function getStored(
  ctx: CommandContext,
  req: RequestOf<"GET">,
  storage: S3Storage,
): Promise<void> {
  const started = Date.now();
  const handle = await storage.openRead(ctx.cwd, req.path);
  const virtual = handle.path;
  try {
    const { entry } = handle.found;
    const range = byteRange(entry.size, req.offset, req.length);
    const version = objectVersion(handle.found);
    if (req.ifVersion !== undefined && req.ifVersion !== version) {
      throw new BftpError(
        "BFTP_ERR_FILE_CHANGED",
        `Cannot read ${JSON.stringify(virtual)}: the file is no longer the version asked for`,
        { details: { path: virtual } },
      );
    }
    const fields = {
      size: entry.size,
      mtime: entry.mtime,
      offset: range.offset,
      length: range.length,
      version,
    };
    const share = claimBuffers(4, Math.min(READ_CHUNK, ctx.limits.maxChunk), 1);
    let sent;
    try {
      sent = await new FileSender(ctx.socket, {
        alg: req.checksum ?? "crc32",
        maxChunk: ctx.limits.maxChunk,
        timeout: ctx.limits.stallTimeoutMs,
        prefix: [ctx.replyFrame(fields)],
        shouldStop: () => abortRequested(ctx),
        offset: range.offset,
        length: range.length,
        buffers: () => share.count(),
        bufferSize: () => share.size(),
        firstBuffer: FIRST_BUFFER,
        readAt: (buffer, length, position, done) => {
          handle.read(buffer, position, length).then(
            (n) => {
              done(null, n);
            },
            (err: unknown) => {
              done(err, 0);
            },
          );
        },
        readError: (err) => s3Error(err, "read", virtual),
        endedEarly: () => fileChanged(virtual),
      }).run();
    } finally {
      share.release();
    }
    logTransfer(ctx.log, ctx.metrics, {
      front: "bftp",
      direction: "get",
      kind: "file",
      user: ctx.user,
      peer: ctx.peer,
      path: virtual,
      offset: range.offset,
      bytes: sent.bytes,
      ms: Date.now() - started,
      result: sent.failure?.code ?? "ok",
    });
  } finally {
    await handle.close();
  }
}

/** HASH: the SHA-256 recorded when the object was uploaded, or computed (and then recorded). */
export async function hashStored(
  ctx: CommandContext,
  req: RequestOf<"HASH">,
  storage: S3Storage,
): Promise<void> {
  const handle = await storage.openRead(ctx.cwd, req.path);
  try {
    const { found } = handle;
    const range = byteRange(found.entry.size, req.offset, req.length);
    const whole = range.offset === 0 && range.length === found.entry.size;
    let value = whole ? await storage.recordedHash(found) : undefined;
    if (value === undefined) {
      value = await sha256Of(handle, range);
      if (whole) await storage.recordHash(found.key, value, found.etag);
    }
    await ctx.reply({
      alg: "sha256",
      value,
      offset: range.offset,
      length: range.length,
      version: objectVersion(found),
    });
  } finally {
    await handle.close();
  }
}

async function sha256Of(handle: S3ReadHandle, range: ByteRange): Promise<string> {
  const digest = createHash("sha256");
  const buffer = Buffer.allocUnsafe(READ_CHUNK);
  let at = range.offset;
  const end = range.offset + range.length;
  while (at < end) {
    const n = await handle.read(buffer, at, Math.min(buffer.length, end - at));
    if (n === 0) throw fileChanged(handle.path);
    digest.update(buffer.subarray(0, n));
    at += n;
  }
  return digest.digest("hex");
}

/** S3 takes at most 10,000 parts: a larger file announced by PUT gets larger parts. */
const MAX_PARTS = 10_000;

/** The part size for an upload of `size` bytes (unknown: the store's, so 10,000 parts at most). */
export function partSizeFor(configured: number, size: number | undefined): number {
  if (size === undefined) return configured;
  const needed = Math.ceil(size / MAX_PARTS / (1024 * 1024)) * 1024 * 1024;
  return Math.max(configured, needed);
}

/**
 * PUT: the data phase streamed into the store through a PartWriter (one part filling, two in
 * flight), completed only when the phase's checksum and size match: the object appears whole
 * or not at all. A plain upload goes into a multipart upload on the target key, aborted on
 * any failure. A resumable one (PROTOCOL.md §10) is stored as the chunks of a partial
 * (s3-partials.ts) that any server can resume: cut by the client or the network, what arrived
 * is kept, to the last byte; cut by a dead server, every chunk it had stored.
 */
export async function putStored(
  ctx: CommandContext,
  req: RequestOf<"PUT">,
  storage: S3Storage,
): Promise<void> {
  const phase = ctx.upload;
  if (phase === undefined)
    throw new BftpError("BFTP_ERR_INTERNAL", "Cannot run PUT without its data phase");
  const started = Date.now();
  const offset = req.offset ?? 0;
  const resumable = req.resumable === true;
  if (offset > 0 && !resumable) throw offsetWithoutResumable(offset);
  const virtual = storage.normalize(ctx.cwd, req.path);
  await storage.refuseTarget(virtual, req.overwrite === true);
  // PUT's mtime is in ms already (PROTOCOL.md §8.8), as the object's metadata keeps it.
  const meta = req.mtime === undefined ? {} : { mtime: Math.trunc(req.mtime) };
  let partSize = partSizeFor(storage.store.partSize, req.size);
  let writer: PartWriter;
  let sink: ChunkSink | undefined;
  if (resumable) {
    const prefix = storage.partialPrefix(ctx.user ?? "", virtual);
    const kept = await storage.partials.read(prefix);
    if (offset > 0) {
      if (kept === undefined) {
        throw new BftpError(
          "BFTP_ERR_BAD_RANGE",
          `Cannot resume ${JSON.stringify(virtual)}: no partial upload is kept for it`,
          { details: { offset } },
        );
      }
      if (kept.size !== offset) {
        throw new BftpError(
          "BFTP_ERR_BAD_RANGE",
          `Cannot resume ${JSON.stringify(virtual)} at ${offset}: the partial upload has ${kept.size} bytes`,
          { details: { offset, size: kept.size } },
        );
      }
    } else if (kept !== undefined) {
      await storage.partials.remove(prefix, kept); // a fresh upload replaces the partial
    }
    const resumed = offset > 0 ? kept : undefined;
    partSize = resumed?.partSize ?? partSize;
    sink = new ChunkSink(storage.store, storage.partials, {
      prefix,
      path: virtual,
      target: storage.keyOf(virtual),
      meta: () => meta,
      ...(resumed === undefined ? {} : { resumed }),
      partSize,
    });
    writer = new PartWriter(sink, virtual, {
      partSize,
      offset,
      partsBefore: resumed?.chunks.length ?? 0,
      ...(resumed === undefined ? {} : { head: await storage.partials.readTail(resumed) }),
    });
  } else {
    const upload = await storage.openUpload(ctx.cwd, virtual, {
      overwrite: req.overwrite === true,
      keep: false,
      partSize,
    });
    if (req.mtime !== undefined) upload.setTimes(req.mtime / 1000, req.mtime / 1000); // seconds
    writer = upload.writer;
  }
  let keep = resumable;
  let committed = false;
  try {
    // A failure here (the connection, or the store) keeps a resumable upload's stored bytes.
    for await (const chunk of phase.chunks()) await writer.append(chunk);
    const { failure, bytes, checksum } = phase.result;
    if (failure !== undefined) {
      keep &&= failure.remote;
      throw phaseFailure(failure, virtual);
    }
    keep = false;
    const size = offset + bytes;
    if (req.size !== undefined && size !== req.size) throw sizeMismatch(virtual, size, req.size);
    if (ctx.windingDown) {
      keep = resumable; // the bytes are complete: kept for -c
      throw shuttingDown(virtual);
    }
    // Checked again at the end (no atomic create-if-absent on S3: docs/scale-out.md).
    await storage.stillFree(virtual, req.overwrite === true);
    const { sha256, etag } = await writer.finish();
    committed = true;
    if (sha256 !== undefined) await storage.recordHash(storage.keyOf(virtual), sha256, etag);
    logPut(ctx, virtual, offset, bytes, started, "ok");
    await ctx.reply({ size, checksum: { alg: req.checksum ?? "crc32", value: checksum } });
  } catch (err) {
    logPut(ctx, virtual, offset, phase.bytes, started, isBftpError(err) ? err.code : "error");
    throw err;
  } finally {
    if (!committed) {
      if (keep && sink !== undefined) {
        const tail = await writer.settle().catch(() => Buffer.alloc(0));
        await sink.keep(tail).catch((err: unknown) => {
          ctx.log.warn("s3-keep-failed", {
            path: virtual,
            error: s3Error(err, "keep", virtual).code,
          });
        });
      } else {
        await writer.abort();
      }
    }
  }
}

/** RESUME: the length and SHA-256 of the partial kept in the store, read back from it. */
export async function resumeStored(
  ctx: CommandContext,
  req: RequestOf<"RESUME">,
  storage: S3Storage,
): Promise<void> {
  const virtual = storage.normalize(ctx.cwd, req.path);
  const kept = await storage.partials.read(storage.partialPrefix(ctx.user ?? "", virtual));
  if (kept === undefined) {
    throw new BftpError(
      "BFTP_ERR_NOT_FOUND",
      `Cannot resume ${JSON.stringify(virtual)}: no partial upload is kept for it`,
    );
  }
  await ctx.reply({ offset: kept.size, sha256: await storage.partials.sha256(kept) });
}
