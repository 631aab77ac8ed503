import type { Writable } from "node:stream";
import { BftpError } from "../errors.js";
import { armDeadline, type WaitOptions } from "./deadline.js";

/**
 * Writes `chunks` corked (one `writev`) and resolves once the stream has flushed the last of
 * them (its write callback: for a socket, handed to the kernel), however full its buffer was.
 * Unlike {@link writeAll}, which resolves at once while the stream's buffer has room and
 * otherwise waits for the buffer to empty completely, this lets a sender keep exactly one
 * write queued behind the kernel (issue 5: waiting for `'drain'` after every 1 MiB frame
 * left the socket idle while the next frame was read). The caller bounds memory by awaiting
 * one write before issuing the next after it.
 *
 * Rejects with `BFTP_ERR_CONNECTION_LOST` when the stream fails or closes first, or with the
 * deadline's error (`options.timeout`: no progress for that long).
 *
 * @example
 * let previous = Promise.resolve();
 * for (const frame of frames) {
 *   const flushed = writeFlushed(socket, [HEX_SIZE_HEADER.encode(frame.length), frame]);
 *   flushed.catch(() => undefined); // awaited below; must not be an unhandled rejection
 *   await previous;
 *   previous = flushed;
 * }
 * await previous;
 */
export function writeFlushed(
  stream: Writable,
  chunks: readonly Uint8Array[],
  options: WaitOptions = {},
): Promise<void> {
  if (stream.destroyed || stream.writableEnded || stream.errored !== null) {
    return Promise.reject(lostError("the stream is already closed", stream.errored));
  }
  return new Promise<void>((resolve, reject) => {
    let done = false;
    const settle = (err?: BftpError): void => {
      if (done) return;
      done = true;
      stream.off("close", onClose);
      if (typeof disarm === "function") disarm();
      if (err === undefined) resolve();
      else reject(err);
    };
    const onClose = (): void => {
      settle(lostError("the stream closed before accepting every byte", stream.errored));
    };
    const disarm = armDeadline(options, "write all bytes", settle);
    if (disarm instanceof BftpError) {
      reject(disarm);
      return;
    }
    stream.on("close", onClose);
    stream.cork();
    chunks.forEach((chunk, i) => {
      const last = i === chunks.length - 1;
      stream.write(
        chunk,
        last
          ? (err?: Error | null) => {
              // A socket destroyed with a write pending calls back with no error (Node's
              // onWriteComplete): the bytes were not flushed, so that is a loss too.
              if (err) settle(lostError("the stream failed", err));
              else if (stream.destroyed) settle(lostError("the stream closed", stream.errored));
              else settle();
            }
          : undefined,
      );
    });
    stream.uncork();
  });
}

function lostError(why: string, cause: Error | null | undefined): BftpError {
  return new BftpError("BFTP_ERR_CONNECTION_LOST", `Cannot write: ${why}`, {
    ...(cause ? { cause } : {}),
  });
}
