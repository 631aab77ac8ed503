import fs, { type BigIntStats } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { BftpError } from "../../errors.js";
import type { RequestOf } from "../../protocol/requests.js";
import { FileSender } from "../../protocol/file-sender.js";
import { sendDataPhase, type SentDataPhase } from "../../protocol/send-data-phase.js";
import type { ChecksumAlg } from "../../protocol/version.js";
import type { CommandContext } from "../command-context.js";
import { logTransfer } from "../transfer-log.js";
import { byteRange } from "../byte-range.js";
import {
  assertUnchanged,
  fileChanged,
  sameVersion,
  settledStats,
  versionOf,
} from "../file-version.js";
import { fsError } from "../fs-error.js";
import { sharedArena } from "../transfer-arena.js";
import { claimBuffers, CROWD_BUFFER, FIRST_BUFFER } from "../transfer-budget.js";
import { openFileInside } from "../open-file.js";
import { abortRequested } from "./abort.js";
import type { Prepared } from "./prepared.js";
import { objectStore, getStored } from "./stored.js";
import { defineCommand, needs } from "./command.js";

/** Largest read from the file at once: large writes are what let a socket reach its ceiling. */
const READ_CHUNK = 1024 * 1024;

/**
 * Most buffers a large GET rotates: one being read, the rest read ahead or in the socket.
 * In a crowd it holds fewer, and larger, as its share of the budget allows (transfer-budget.ts).
 */
const BUFFERS = 4;

/** A range this small is read whole while the GET is prepared, and its file closed at once. */
const SMALL_READ = 64 * 1024;

/**
 * GET (PROTOCOL.md §8.7): the reply, then exactly `length` bytes of the file from `offset` as
 * a data phase with its checksum. The descriptor is opened once, so a file replaced during
 * the download is sent as it was. A file written to in place while it is read (rewritten,
 * truncated, appended) ends the phase with `BFTP_ERR_FILE_CHANGED` (issue 11), a read error
 * with its code; an ABORT queued behind the GET ends it with `BFTP_ERR_TRANSFER_ABORTED`.
 */
export async function get(ctx: CommandContext, req: RequestOf<"GET">): Promise<void> {
  const objects = objectStore(ctx);
  if (objects !== undefined) return getStored(ctx, req, objects);
  await (await openAndPrepare(ctx, req, false)).run(ctx);
}

/**
 * The part of a GET that may run before its turn (the session prepares pipelined GETs
 * concurrently, issue 5): open and check the file, check the range, and for a small range
 * read its bytes and close the file, so the turn itself is one write. Errors (not found,
 * bad range) reject here and are replied in turn. A larger range is not held open until
 * its turn (sixteen prepared downloads per session would hold sixteen descriptors): its turn
 * opens the file again, and the transfer's time dwarfs that second open.
 */
export function prepareGet(ctx: CommandContext, req: RequestOf<"GET">): Promise<Prepared> {
  // On an object store the whole GET runs in its turn (stored.ts).
  if (objectStore(ctx) !== undefined) {
    return Promise.resolve({ run: (turn) => get(turn, req), release: () => Promise.resolve() });
  }
  return openAndPrepare(ctx, req, true);
}

async function openAndPrepare(
  ctx: CommandContext,
  req: RequestOf<"GET">,
  ahead: boolean,
): Promise<Prepared> {
  const opened = await openFileInside(ctx, req.path);
  const { handle, virtual } = opened;
  let open = true;
  try {
    let range = byteRange(Number(opened.stats.size), req.offset, req.length);
    if (ahead && range.length > SMALL_READ) {
      open = false;
      await handle.close();
      return { run: (turn) => get(turn, req), release: () => Promise.resolve() };
    }
    // Issue 11: stamps that any later write moves, so the check after the last read is sound.
    let stats = await settledStats(handle, virtual, opened.stats);
    let whole: Buffer | undefined;
    // A small range changed while it is read here is read again: no reply has gone out yet.
    for (let attempt = 1; ; attempt++) {
      range = byteRange(Number(stats.size), req.offset, req.length);
      if (req.ifVersion !== undefined && req.ifVersion !== versionOf(stats)) {
        throw notThatVersion(virtual);
      }
      if (range.length > SMALL_READ) break;
      if (range.length === 0) {
        whole = Buffer.alloc(0);
        break;
      }
      // On a read error the turn reads again, and fails the data phase with an error trailer.
      const piece = await readWhole(handle, range, virtual).catch(() => undefined);
      if (piece === undefined) break;
      const after = await handle.stat({ bigint: true });
      if (piece.length === range.length && sameVersion(stats, after)) {
        whole = piece;
        break;
      }
      if (attempt === 3) throw fileChanged(virtual);
      stats = await settledStats(handle, virtual, after);
    }
    if (whole !== undefined) {
      open = false;
      await handle.close();
    }
    const fields = {
      size: Number(stats.size),
      mtime: Number(stats.mtimeMs),
      offset: range.offset,
      length: range.length,
      version: versionOf(stats),
    };
    const settled = stats;
    return {
      run: async (turn) => {
        const started = Date.now();
        const alg = req.checksum ?? "crc32";
        // A whole file whose checksum the server remembers is sent without computing it.
        const wholeFile = range.offset === 0 && range.length === fields.size;
        const known = wholeFile ? turn.checksums.lookup(settled, alg) : undefined;
        try {
          const sent =
            whole === undefined
              ? await sendRange(turn, handle, range, {
                  alg,
                  known,
                  virtual,
                  stats: settled,
                  prefix: turn.replyFrame(fields),
                })
              : await sendDataPhase(turn.socket, [whole], {
                  alg,
                  ...(known === undefined ? {} : { checksum: known }),
                  maxChunk: turn.limits.maxChunk,
                  timeout: turn.limits.stallTimeoutMs,
                  prefix: [turn.replyFrame(fields)],
                  shouldStop: () => abortRequested(turn),
                  length: range.length,
                });
          logTransfer(turn.log, turn.metrics, {
            front: "bftp",
            direction: "get",
            kind: "file",
            user: turn.user,
            peer: turn.peer,
            path: virtual,
            offset: range.offset,
            bytes: sent.bytes,
            ms: Date.now() - started,
            result: sent.failure?.code ?? "ok",
          });
          // sendRange found the file unchanged after its last read (else the phase failed);
          // the cache keeps it only if its times are old enough to trust.
          if (wholeFile && whole === undefined && known === undefined && !sent.failure) {
            turn.checksums.remember(settled, alg, sent.checksum, started);
          }
        } finally {
          if (open) {
            open = false;
            await handle.close();
          }
        }
      },
      release: async () => {
        if (open) {
          open = false;
          await handle.close();
        }
      },
    };
  } catch (err) {
    if (open) await handle.close();
    throw err;
  }
}

/** `BFTP_ERR_FILE_CHANGED` for a GET whose `ifVersion` names a version the file no longer is. */
function notThatVersion(virtual: string): BftpError {
  return new BftpError(
    "BFTP_ERR_FILE_CHANGED",
    `Cannot read ${JSON.stringify(virtual)}: the file is no longer the version asked for`,
    { details: { path: virtual } },
  );
}

/** The whole (small) range in one read; shorter if the file is shorter now. */
async function readWhole(
  handle: FileHandle,
  range: { offset: number; length: number },
  virtual: string,
): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(range.length);
  try {
    const { bytesRead } = await handle.read(buffer, 0, range.length, range.offset);
    return buffer.subarray(0, bytesRead);
  } catch (err) {
    throw fsError(err, "read", virtual);
  }
}

/**
 * Sends a range too large to read while the GET is prepared, straight from the descriptor
 * to the socket (FileSender, issue 12): positioned reads into a rotation of up to four
 * buffers, counted and sized from the transfer's share of the process's buffer budget
 * (transfer-budget.ts, at most 1 MiB; one of 256 KiB when a hundred GETs run, taken in turns
 * from the server's slab when it has not one for each: transfer-arena.ts), each sent as soon
 * as it is read. The reads are callback `fs.read` calls on the handle's descriptor (no
 * promise per read: about a twelfth of the main thread's time under 100 clients), which the
 * issue-11 tests hook to change a file at an exact point of a GET. A file that ends early
 * (it shrank) or whose stats differ, once the last byte is read and before it leaves, from
 * `stats` ends the phase with `BFTP_ERR_FILE_CHANGED` (issue 11: the trailer then says the
 * bytes sent were not one version of the file); a read error with its code; an ABORT with
 * `BFTP_ERR_TRANSFER_ABORTED`.
 */
async function sendRange(
  turn: CommandContext,
  handle: FileHandle,
  range: { offset: number; length: number },
  options: {
    alg: ChecksumAlg;
    known: string | undefined;
    virtual: string;
    stats: BigIntStats;
    prefix: Uint8Array;
  },
): Promise<SentDataPhase> {
  const { virtual } = options;
  const chunk = Math.min(READ_CHUNK, turn.limits.maxChunk);
  // Alone: four of 1 MiB; in a crowd: one of at least 256 KiB, taking turns with the slab's.
  const share = claimBuffers(BUFFERS, chunk, 1, CROWD_BUFFER);
  try {
    return await new FileSender(turn.socket, {
      alg: options.alg,
      ...(options.known === undefined ? {} : { checksum: options.known }),
      maxChunk: turn.limits.maxChunk,
      timeout: turn.limits.stallTimeoutMs,
      prefix: [options.prefix],
      shouldStop: () => abortRequested(turn),
      offset: range.offset,
      length: range.length,
      buffers: () => share.count(),
      bufferSize: () => share.size(),
      firstBuffer: FIRST_BUFFER,
      // From the server's one slab: no buffer of a finished GET left for the collector.
      allocate: (size) => sharedArena().takeUpTo(size),
      release: (buffer) => {
        sharedArena().give(buffer);
      },
      wait: (ready) => sharedArena().wait(ready),
      othersWait: () => sharedArena().waiting > 0,
      // The callback `fs.read` on the handle's descriptor: no promise per read. The handle
      // stays open until FileSender has settled, and it settles only once no read is pending.
      readAt: (buffer, length, position, done) => {
        fs.read(handle.fd, buffer, 0, length, position, done);
      },
      readError: (err) => fsError(err, "read", virtual),
      endedEarly: () => fileChanged(virtual), // shorter than when the GET began
      // Every read is done: whatever wrote to the file since the GET began moved its stamps.
      beforeLast: () =>
        assertUnchanged(handle, options.stats, virtual).then(
          () => undefined,
          (err: unknown) => (err instanceof BftpError ? err : fsError(err, "read", virtual)),
        ),
    }).run();
  } finally {
    share.release();
  }
}

/** GET: its descriptor (commands/command.ts). */
export const GET = defineCommand({
  op: "GET",
  gate: "session",
  permissions: needs("read"),
  prepare: prepareGet,
  run: get,
});
