import type { Writable } from "node:stream";
import { BftpError } from "../errors.js";
import { armDeadline, type WaitOptions } from "./deadline.js";

/** Options for {@link writeAll}. */
export type WriteAllOptions = WaitOptions;

/**
 * The classic `sendall`, done right for Node: writes every byte and resolves once the
 * stream has accepted them all, waiting on `'drain'` when `write()` says its buffer is full,
 * so a fast sender cannot grow memory without bound. Several chunks are written corked, as
 * one `writev`, so a header and a payload leave in one segment without being copied together.
 *
 * Rejects with `BFTP_ERR_CONNECTION_LOST` when the stream is closed, ended or fails before
 * accepting everything, `BFTP_ERR_ABORTED` / `BFTP_ERR_TIMEOUT` from `options`.
 * "Accepted" means handed to the stream (for a socket, to Node's buffer or the kernel);
 * delivery to the peer is only ever confirmed by the peer's reply.
 *
 * @example
 * await writeAll(socket, [HEX_SIZE_HEADER.encode(body.length), body], { timeout: 30_000 });
 */
export function writeAll(
  stream: Writable,
  data: Uint8Array | string | readonly Uint8Array[],
  options: WriteAllOptions = {},
): Promise<void> {
  if (stream.destroyed || stream.writableEnded || stream.errored !== null) {
    return Promise.reject(lostError("the stream is already closed", stream.errored));
  }
  let accepted: boolean;
  if (typeof data === "string" || !Array.isArray(data)) {
    accepted = stream.write(data);
  } else {
    stream.cork();
    accepted = true;
    for (const chunk of data as readonly Uint8Array[]) accepted = stream.write(chunk);
    stream.uncork();
  }
  if (accepted) return Promise.resolve();
  return waitForDrain(stream, options);
}

/**
 * Resolves on the stream's next `'drain'`; rejects with `BFTP_ERR_CONNECTION_LOST` if it
 * closes or fails first, or with the deadline's error.
 */
function waitForDrain(stream: Writable, options: WaitOptions): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const settle = (err?: BftpError): void => {
      stream.off("drain", onDrain);
      stream.off("close", onClose);
      stream.off("error", onError);
      if (typeof disarm === "function") disarm();
      if (err === undefined) resolve();
      else reject(err);
    };
    const onDrain = (): void => {
      settle();
    };
    const onClose = (): void => {
      settle(lostError("the stream closed before accepting every byte", stream.errored));
    };
    const onError = (err: Error): void => {
      settle(lostError("the stream failed", err));
    };
    const disarm = armDeadline(options, "write all bytes", settle);
    if (disarm instanceof BftpError) {
      reject(disarm);
      return;
    }
    stream.on("drain", onDrain);
    stream.on("close", onClose);
    stream.on("error", onError);
  });
}

function lostError(why: string, cause: Error | null | undefined): BftpError {
  return new BftpError("BFTP_ERR_CONNECTION_LOST", `Cannot write: ${why}`, {
    ...(cause ? { cause } : {}),
  });
}
