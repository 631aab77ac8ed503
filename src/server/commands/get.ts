import type { Readable } from "node:stream";
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
    const source =
      range.length === 0
        ? nothing()
        : exactly(
            handle.createReadStream({
              start: range.offset,
              end: range.offset + range.length - 1,
              highWaterMark: Math.min(READ_CHUNK, ctx.limits.maxChunk),
              autoClose: false,
            }),
            range.length,
            virtual,
          );
    const sent = await sendDataPhase(ctx.socket, source, {
      alg: req.checksum ?? "crc32",
      maxChunk: ctx.limits.maxChunk,
      timeout: ctx.limits.stallTimeoutMs,
      prefix: [reply],
      shouldStop: () => abortRequested(ctx),
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

/** The stream's bytes, failing if it ends before `length` (the file shrank) or cannot be read. */
async function* exactly(stream: Readable, length: number, virtual: string): AsyncGenerator<Buffer> {
  let seen = 0;
  try {
    for await (const chunk of stream) {
      const piece = chunk as Buffer;
      seen += piece.length;
      yield piece;
    }
  } catch (err) {
    throw fsError(err, "read", virtual);
  }
  if (seen !== length) {
    throw new BftpError(
      "BFTP_ERR_INTERNAL",
      `Cannot read ${JSON.stringify(virtual)}: the file changed size during the download`,
    );
  }
}

async function* nothing(): AsyncGenerator<Buffer> {
  // An empty range: the data phase is the terminator and the trailer alone.
}
