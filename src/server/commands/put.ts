import fsCallback from "node:fs";
import fs, { type FileHandle } from "node:fs/promises";
import path from "node:path";
import { exactSeconds } from "../../exact-seconds.js";
import { BftpError, isBftpError } from "../../errors.js";
import type { DataPhaseReader } from "../../protocol/data-phase-reader.js";
import type { RequestOf } from "../../protocol/requests.js";
import type { CommandContext } from "../command-context.js";
import { logTransfer } from "../transfer-log.js";
import { fsError } from "../fs-error.js";
import { commitFile, refuseTarget } from "../storage/disk-storage.js";
import { claimBuffers } from "../transfer-budget.js";
import type { Anchor } from "../sandbox.js";
import { partName, partialKey, resumeName, uploadName } from "../temp-files.js";
import { objectStore, putStored } from "./stored.js";
import { defineCommand } from "./command.js";

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;

/**
 * PUT (PROTOCOL.md §8.8). The data phase that follows the request is written to a file of its
 * own in the staging folder, outside the served tree (upload-staging.ts); only when the
 * sender's checksum and the announced size match is it flushed, committed into the target's
 * checked, open directory by one atomic step (a hard link that fails if the name exists, or a
 * rename when overwriting), and the directory flushed. Anything not committed is removed,
 * except a resumable upload's file, published as the partial kept for RESUME (§10). If the
 * PUT is refused before or while its data arrives, the session reads the rest of the phase so
 * the connection stays in step.
 */
export async function put(ctx: CommandContext, req: RequestOf<"PUT">): Promise<void> {
  const objects = objectStore(ctx);
  if (objects !== undefined) return putStored(ctx, req, objects);
  const phase = ctx.upload;
  if (phase === undefined)
    throw new BftpError("BFTP_ERR_INTERNAL", "Cannot run PUT without its data phase");
  const started = Date.now();
  // The commit and the directory flush happen through the target's checked, open directory
  // (Sandbox.anchor): a directory swapped for a link cannot steer them outside.
  const target = await ctx.anchor(req.path);
  try {
    await upload(ctx, req, phase, target, started);
  } finally {
    await target.close();
  }
}

async function upload(
  ctx: CommandContext,
  req: RequestOf<"PUT">,
  phase: DataPhaseReader,
  target: Anchor,
  started: number,
): Promise<void> {
  await refuseTarget(target, req.overwrite === true);
  const offset = req.offset ?? 0;
  const resumable = req.resumable === true;
  if (offset > 0 && !resumable) throw offsetWithoutResumable(offset);
  const area = await ctx.staging.areaFor(ctx.sandbox.root, target).catch((err: unknown) => {
    throw fsError(err, "upload to", target.virtual);
  });
  const key = partialKey(ctx.user ?? "", ctx.sandbox.root, target.virtual);
  const partial = path.join(area, resumeName(key));
  // Each upload writes a file of its own (issue 11, item 2): two uploads to one path never
  // share bytes, and each commits exactly what it received.
  const file = path.join(area, resumable ? uploadName(key) : partName());
  const handle = await openUpload(file, partial, target.virtual, offset);
  // A resumable upload's file is published below whatever happens; a plain one is also
  // removed by the session if the connection dies first.
  const untrack = resumable ? () => false : ctx.trackTemp(file);
  let keep = resumable; // a resumable upload is kept for RESUME on failure; a plain one never
  let committed = false;
  let open = true;
  try {
    try {
      await writeData(handle, phase, offset);
    } catch (err) {
      if (isBftpError(err)) throw err; // the connection failed: the session ends
      keep = false;
      throw fsError(err, "write", target.virtual); // the session drains the rest of the phase
    }
    const { failure, bytes, checksum } = phase.result;
    if (failure !== undefined) {
      // The client's error trailer is an abort whatever code it carries: that code describes
      // the client's side, and replied as is it would claim a server fault or a full server
      // disk (PROTOCOL.md §12.4). A checksum mismatch is ours: its partial is corrupt, useless.
      keep &&= failure.remote;
      throw phaseFailure(failure, target.virtual);
    }
    // The whole data phase arrived: whatever fails from here on (a wrong size, the target
    // created meanwhile) is a refusal that resuming would not change, so nothing is kept.
    keep = false;
    const size = offset + bytes;
    if (req.size !== undefined && size !== req.size) {
      throw sizeMismatch(target.virtual, size, req.size);
    }
    await handle.sync();
    if (req.mtime !== undefined) {
      const mtime = exactSeconds(req.mtime);
      await handle.utimes(Date.now() / 1000, mtime);
    }
    await handle.close();
    open = false;
    // A server winding down may already have told this client BFTP_ERR_SHUTTING_DOWN while
    // the data phase was still arriving (Session.windDown): committing now would contradict
    // that reply. Refused instead, and kept for `-c` if resumable: the bytes are complete.
    if (ctx.windingDown) {
      keep = resumable;
      throw shuttingDown(target.virtual);
    }
    await commitFile(file, target.path, target.virtual, req.overwrite === true);
    committed = true;
    await target.dir.sync(); // the rename itself must survive a crash
    // A committed upload supersedes the partial this user kept for the path (§8.8).
    await fs.rm(partial, { force: true });
    logPut(ctx, target.virtual, offset, bytes, started, "ok");
    await ctx.reply({ size, checksum: { alg: req.checksum ?? "crc32", value: checksum } });
  } catch (err) {
    logPut(
      ctx,
      target.virtual,
      offset,
      phase.bytes,
      started,
      isBftpError(err) ? err.code : "error",
    );
    throw err;
  } finally {
    if (open) {
      if (keep) await handle.sync().catch(() => undefined);
      await handle.close().catch(() => undefined);
    }
    if (!committed) {
      // The most recent interrupted upload of a path becomes its partial (§10).
      if (keep) await fs.rename(file, partial).catch(() => fs.rm(file, { force: true }));
      else await fs.rm(file, { force: true });
    }
    untrack();
  }
}

/**
 * The refusal for a data phase that failed: the client's error trailer is an abort whatever
 * code it carries (that code describes the client's side, and replied as is it would claim a
 * server fault or a full server disk, PROTOCOL.md §12.4); a checksum mismatch is our own.
 */
export function phaseFailure(failure: BftpError, virtual: string): BftpError {
  return failure.remote
    ? new BftpError(
        "BFTP_ERR_TRANSFER_ABORTED",
        `Cannot commit ${JSON.stringify(virtual)}: the client aborted the upload`,
        { cause: failure },
      )
    : failure;
}

/** `BFTP_ERR_BAD_RANGE`: only a resumable PUT may start at an offset (§10). */
export function offsetWithoutResumable(offset: number): BftpError {
  return new BftpError(
    "BFTP_ERR_BAD_RANGE",
    "Cannot upload from an offset without resumable: true",
    {
      details: { offset },
    },
  );
}

/** `BFTP_ERR_SIZE_MISMATCH`: the phase carried `size` bytes in all, `expected` were announced. */
export function sizeMismatch(virtual: string, size: number, expected: number): BftpError {
  return new BftpError(
    "BFTP_ERR_SIZE_MISMATCH",
    `Cannot commit ${JSON.stringify(virtual)}: ${size} bytes arrived, ${expected} were announced`,
    { details: { received: size, expected } },
  );
}

/**
 * A server winding down may already have told this client BFTP_ERR_SHUTTING_DOWN while the
 * data phase was still arriving (Session.windDown): committing then would contradict it.
 */
export function shuttingDown(virtual: string): BftpError {
  return new BftpError(
    "BFTP_ERR_SHUTTING_DOWN",
    `Cannot commit ${JSON.stringify(virtual)}: the server is shutting down`,
  );
}

/** The `transfer` line (and metrics) of a finished PUT. */
export function logPut(
  ctx: CommandContext,
  virtual: string,
  offset: number,
  bytes: number,
  started: number,
  result: string,
): void {
  logTransfer(ctx.log, ctx.metrics, {
    front: "bftp",
    direction: "put",
    kind: "file",
    user: ctx.user,
    peer: ctx.peer,
    path: virtual,
    offset,
    bytes,
    ms: Date.now() - started,
    result,
  });
}

/** Largest write batch: bytes gathered from the socket before one positioned `writev`. */
const WRITE_BATCH = 1024 * 1024;

/**
 * Writes the data phase to the file from `offset`, straight from the socket
 * (`DataPhaseReader.receiveFile`, issue 12): frames parsed as bytes arrive, pieces gathered
 * and written with positioned gather writes (callback `fs.writev`, no copy, no promise per
 * piece), the next bytes received while a write runs. Memory: about two batches (one being
 * written, one gathered) of the upload's share of the buffer budget (transfer-budget.ts,
 * at most 1 MiB each); past that the socket is paused, so a slow disk slows only this
 * upload, through TCP backpressure. The writes run on the thread pool: never synchronous
 * on the server, where they would stall every session. Returns with no write pending; a
 * failed write throws once the rest of the phase has been read and dropped (in step).
 */
async function writeData(
  handle: FileHandle,
  phase: DataPhaseReader,
  offset: number,
): Promise<void> {
  const share = claimBuffers(2, WRITE_BATCH); // one batch written, one gathered
  const fd = handle.fd;
  let writeError: unknown;
  try {
    writeError = await phase.receiveFile({
      position: offset,
      backlog: () => 2 * share.size(),
      writeAt: (buffers, position, done) => {
        fsCallback.writev(fd, buffers, position, done);
      },
    });
  } finally {
    share.release();
  }
  // Rethrown as is: upload() maps it with fsError (an fs error is always an Error).
  if (writeError !== undefined)
    throw writeError instanceof Error
      ? writeError
      : new Error("the write failed", { cause: writeError });
}

/**
 * Opens the file the data goes to: a new one, or for a resumed upload (`offset` > 0) the kept
 * partial, claimed by renaming it to `file`. Only one upload can claim a partial (the rename
 * is atomic; a loser finds none); one whose length is not `offset` is put back and refused.
 */
async function openUpload(
  file: string,
  partial: string,
  virtual: string,
  offset: number,
): Promise<FileHandle> {
  try {
    if (offset === 0) return await fs.open(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o644);
    await fs.rename(partial, file);
  } catch (err) {
    if ((err as { code?: unknown }).code === "ENOENT" && offset > 0) {
      throw new BftpError(
        "BFTP_ERR_BAD_RANGE",
        `Cannot resume ${JSON.stringify(virtual)}: no partial upload is kept for it`,
        { details: { offset } },
      );
    }
    throw fsError(err, "upload to", virtual);
  }
  let handle: FileHandle | undefined;
  try {
    handle = await fs.open(file, O_WRONLY | O_NOFOLLOW);
    const { size } = await handle.stat();
    if (size === offset) return handle;
    throw new BftpError(
      "BFTP_ERR_BAD_RANGE",
      `Cannot resume ${JSON.stringify(virtual)} at ${offset}: the partial upload has ${size} bytes`,
      { details: { offset, size } },
    );
  } catch (err) {
    await handle?.close();
    await putBack(file, partial);
    throw isBftpError(err) ? err : fsError(err, "upload to", virtual);
  }
}

/** Returns a claimed partial to its place, unless a newer one was kept meanwhile. */
async function putBack(file: string, partial: string): Promise<void> {
  try {
    await fs.link(file, partial); // EEXIST: a more recent partial won the place
  } catch {
    // dropped below
  }
  await fs.rm(file, { force: true });
}

/** PUT: its descriptor (commands/command.ts). */
export const PUT = defineCommand({
  op: "PUT",
  gate: "session",
  permissions: (req) => (req.overwrite === true ? ["write", "delete"] : ["write"]),
  phase: (_payload, req) => ({ alg: req?.checksum ?? "crc32" }),
  run: put,
});
