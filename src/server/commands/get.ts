import type { FileHandle } from "node:fs/promises";
import { BftpError } from "../../errors.js";
import type { RequestOf } from "../../protocol/requests.js";
import { sendDataPhase } from "../../protocol/send-data-phase.js";
import type { CommandContext } from "../command-context.js";
import { byteRange } from "../byte-range.js";
import { sameContent } from "../checksum-cache.js";
import { fsError } from "../fs-error.js";
import { claimBuffers } from "../transfer-budget.js";
import { openFileInside } from "../open-file.js";
import { abortRequested } from "./abort.js";
import type { Prepared } from "./prepared.js";

/** Largest read from the file at once: large writes are what let a socket reach its ceiling. */
const READ_CHUNK = 1024 * 1024;

/** A range this small is read whole while the GET is prepared, and its file closed at once. */
const SMALL_READ = 64 * 1024;

/**
 * GET (PROTOCOL.md §8.7): the reply, then exactly `length` bytes of the file from `offset` as
 * a data phase with its checksum. The descriptor is opened once, so a file replaced during
 * the download is sent as it was. A read error, or a file that shrinks, ends the phase with
 * an error trailer; an ABORT queued behind the GET ends it with `BFTP_ERR_TRANSFER_ABORTED`.
 */
export async function get(ctx: CommandContext, req: RequestOf<"GET">): Promise<void> {
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
  return openAndPrepare(ctx, req, true);
}

async function openAndPrepare(
  ctx: CommandContext,
  req: RequestOf<"GET">,
  ahead: boolean,
): Promise<Prepared> {
  const { handle, stats, virtual } = await openFileInside(ctx, req.path);
  let open = true;
  try {
    const range = byteRange(stats.size, req.offset, req.length);
    if (ahead && range.length > SMALL_READ) {
      open = false;
      await handle.close();
      return { run: (turn) => get(turn, req), release: () => Promise.resolve() };
    }
    const fields = {
      size: stats.size,
      mtime: Math.trunc(stats.mtimeMs),
      offset: range.offset,
      length: range.length,
    };
    let whole: Buffer | undefined;
    if (range.length <= SMALL_READ) {
      // On failure the turn reads again, and fails the data phase with an error trailer.
      whole =
        range.length === 0
          ? Buffer.alloc(0)
          : await readWhole(handle, range, virtual).catch(() => undefined);
      if (whole !== undefined) {
        open = false;
        await handle.close();
      }
    }
    return {
      run: async (turn) => {
        const started = Date.now();
        const alg = req.checksum ?? "crc32";
        // A whole file whose checksum the server remembers is sent without computing it.
        const wholeFile = range.offset === 0 && range.length === stats.size;
        const known = wholeFile ? turn.checksums.lookup(stats, alg) : undefined;
        try {
          const source =
            whole === undefined
              ? readAhead(handle, range, Math.min(READ_CHUNK, turn.limits.maxChunk), virtual)
              : [whole];
          const sent = await sendDataPhase(turn.socket, source, {
            alg,
            ...(known === undefined ? {} : { checksum: known }),
            maxChunk: turn.limits.maxChunk,
            timeout: turn.limits.stallTimeoutMs,
            prefix: [turn.replyFrame(fields)],
            shouldStop: () => abortRequested(turn),
            length: range.length,
          });
          turn.log.info("get", {
            peer: turn.peer,
            path: virtual,
            offset: range.offset,
            bytes: sent.bytes,
            ms: Date.now() - started,
            result: sent.failure?.code ?? "ok",
          });
          // Remembered only if nothing wrote to the file while it was read (its times and
          // size unchanged through the open descriptor) and the cache finds it old enough.
          if (wholeFile && known === undefined && sent.failure === undefined && open) {
            if (sameContent(stats, await handle.stat()))
              turn.checksums.remember(stats, alg, sent.checksum, started);
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

/** The whole (small) range in one read; INTERNAL if the file is shorter now. */
async function readWhole(
  handle: FileHandle,
  range: { offset: number; length: number },
  virtual: string,
): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(range.length);
  let bytesRead: number;
  try {
    ({ bytesRead } = await handle.read(buffer, 0, range.length, range.offset));
  } catch (err) {
    throw fsError(err, "read", virtual);
  }
  if (bytesRead !== range.length) {
    throw new BftpError(
      "BFTP_ERR_INTERNAL",
      `Cannot read ${JSON.stringify(virtual)}: the file changed size during the download`,
    );
  }
  return buffer;
}

/**
 * The range's bytes in chunks of at most `chunk`, each read with one positioned `read()`.
 * The next chunk's read starts before the current one is handed out, so the file read
 * overlaps the socket write (issue 5). Buffers rotate through three: `sendDataPhase` has
 * flushed every chunk but the latest two by the time it asks for the next, so the third
 * buffer back is free again (fresh 1 MiB buffers per chunk cost page faults and garbage
 * collection: 14% of the server's time in a profile). Their size is the transfer's share of
 * the process's buffer budget (transfer-budget.ts), at most `chunk`. Fails if the file ends early (it
 * shrank) or cannot be read.
 */
async function* readAhead(
  handle: FileHandle,
  range: { offset: number; length: number },
  chunk: number,
  virtual: string,
): AsyncGenerator<Buffer> {
  const end = range.offset + range.length;
  const buffers: Buffer[] = [];
  const share = claimBuffers(3, chunk);
  let turn = 0;
  const readAt = (position: number): Promise<Buffer> => {
    const target = share.size();
    // The buffer three turns back is free again; it is replaced when the share has changed.
    let buffer = buffers[turn % 3];
    if (buffer?.length !== target) {
      buffer = Buffer.allocUnsafe(target);
      buffers[turn % 3] = buffer;
    }
    turn++;
    const size = Math.min(buffer.length, end - position);
    const read = handle.read(buffer, 0, size, position).then(
      ({ bytesRead }) => buffer.subarray(0, bytesRead),
      (err: unknown) => {
        throw fsError(err, "read", virtual);
      },
    );
    read.catch(() => undefined); // awaited below; never an unhandled rejection meanwhile
    return read;
  };
  let position = range.offset;
  let next = position < end ? readAt(position) : undefined;
  try {
    while (next !== undefined) {
      const piece = await next;
      if (piece.length === 0) {
        next = undefined;
        throw new BftpError(
          "BFTP_ERR_INTERNAL",
          `Cannot read ${JSON.stringify(virtual)}: the file changed size during the download`,
        );
      }
      position += piece.length;
      next = position < end ? readAt(position) : undefined;
      yield piece;
    }
  } finally {
    share.release();
    await next?.catch(() => undefined); // the handle is closed only once no read is pending
  }
}
