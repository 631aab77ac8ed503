import type { FileHandle } from "node:fs/promises";
import { BftpError } from "../../errors.js";
import type { RequestOf } from "../../protocol/requests.js";
import { sendDataPhase } from "../../protocol/send-data-phase.js";
import type { CommandContext } from "../command-context.js";
import { byteRange } from "../byte-range.js";
import { fsError } from "../fs-error.js";
import { openFileInside } from "../open-file.js";
import { abortRequested } from "./abort.js";

/** Largest read from the file at once: large writes are what let a socket reach its ceiling. */
const READ_CHUNK = 1024 * 1024;

/**
 * GET (PROTOCOL.md §8.7): the reply, then exactly `length` bytes of the file from `offset` as
 * a data phase with its checksum. The descriptor is opened once, so a file replaced during
 * the download is sent as it was. A read error, or a file that shrinks, ends the phase with
 * an error trailer; an ABORT queued behind the GET ends it with `BFTP_ERR_TRANSFER_ABORTED`.
 */
export async function get(ctx: CommandContext, req: RequestOf<"GET">): Promise<void> {
  const { handle, stats, virtual } = await openFileInside(ctx, req.path);
  const started = Date.now();
  try {
    const range = byteRange(stats.size, req.offset, req.length);
    const reply = ctx.replyFrame({
      size: stats.size,
      mtime: Math.trunc(stats.mtimeMs),
      offset: range.offset,
      length: range.length,
    });
    const source = readAhead(handle, range, Math.min(READ_CHUNK, ctx.limits.maxChunk), virtual);
    const sent = await sendDataPhase(ctx.socket, source, {
      alg: req.checksum ?? "crc32",
      maxChunk: ctx.limits.maxChunk,
      timeout: ctx.limits.stallTimeoutMs,
      prefix: [reply],
      shouldStop: () => abortRequested(ctx),
      length: range.length,
    });
    ctx.log.info("get", {
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

/**
 * The range's bytes in chunks of at most `chunk`, each read with one positioned `read()`.
 * The next chunk's read starts before the current one is handed out, so the file read
 * overlaps the socket write (issue 5). Buffers rotate through three: `sendDataPhase` has
 * flushed every chunk but the latest two by the time it asks for the next, so the third
 * buffer back is free again (fresh 1 MiB buffers per chunk cost page faults and garbage
 * collection: 14% of the server's time in a profile). Fails if the file ends early (it
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
  let turn = 0;
  const readAt = (position: number): Promise<Buffer> => {
    const size = Math.min(chunk, end - position);
    // A range that fits one chunk gets a buffer of its own size (small files stay small).
    let buffer = range.length <= chunk ? Buffer.allocUnsafe(size) : buffers[turn % 3];
    if (buffer === undefined) {
      buffer = Buffer.allocUnsafe(chunk);
      buffers.push(buffer);
    }
    turn++;
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
    await next?.catch(() => undefined); // the handle is closed only once no read is pending
  }
}
