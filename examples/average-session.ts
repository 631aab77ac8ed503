/**
 * One average-server connection: read a request frame, reply, repeat, until the client
 * closes. Every read has a deadline; every failure ends only this connection.
 */
import type { Socket } from "node:net";
import { Writable } from "node:stream";
import { BftpError, isBftpError, StreamReader, writeAll } from "../src/index.js";
import { describePeer } from "./server-lifecycle.js";
import {
  AverageError,
  computeMean,
  encodeAverageReply,
  errorReply,
  parseAverageRequest,
  type AverageReply,
} from "./average-protocol.js";

/** Options for {@link serveAverageConnection}. */
export interface AverageSessionOptions {
  /** Largest request payload accepted (`--max-request`). */
  readonly maxRequest: number;
  /** Largest refused frame skipped to keep the connection; larger ones close it. */
  readonly maxDiscard: number;
  /** Milliseconds any single read or write may wait (`--idle-timeout`). */
  readonly idleTimeout: number;
  /** Where progress lines go (stderr in the examples). */
  readonly log: (line: string) => void;
}

/** Longest time spent draining a client's bytes after the server decided to close. */
const LINGER_MS = 2000;

/**
 * Serves requests on `socket` until the client ends the connection, then ends ours.
 * Never rejects and never throws past the connection: resets, timeouts and hostile bytes
 * are logged, answered where an answer is possible, and close this connection only.
 *
 * Size limits, resolving "an oversized frame keeps the connection" against "a frame over
 * the limit closes it": a frame over `maxRequest` is refused with `BFTP_ERR_FRAME_TOO_LARGE`
 * before one payload byte is buffered; if it is at most `maxDiscard` bytes its payload is
 * skipped as it arrives and the connection stays in step for the next request; if larger,
 * skipping would let a client hold the connection for gigabytes, so it is closed.
 */
export async function serveAverageConnection(
  socket: Socket,
  options: AverageSessionOptions,
): Promise<void> {
  const peer = describePeer(socket);
  const reader = new StreamReader(socket);
  const timeout = options.idleTimeout;
  const send = (reply: AverageReply): Promise<void> =>
    writeAll(socket, encodeAverageReply(reply), { timeout });
  options.log(`serving connection from ${peer}`);
  socket.once("close", () => {
    options.log(`closed ${peer}`);
  });

  /** Answers a request that could not be read; false when the connection is over. */
  const recover = async (err: unknown): Promise<boolean> => {
    if (isBftpError(err, "BFTP_ERR_PEER_CLOSED")) {
      options.log(`done with ${peer}`);
      socket.end();
      return false;
    }
    const refusal = refuseFrame(err, options);
    if (refusal === undefined) throw err;
    if (refusal.skip !== undefined) {
      try {
        await reader.skip(refusal.skip, { timeout });
      } catch (skipErr) {
        return recover(skipErr); // a stall while skipping is a timeout like any other
      }
      await send(refusal.reply);
      return true;
    }
    options.log(`closing ${peer}: ${refusal.reply.error.code}`);
    await send(refusal.reply);
    await closeAfterReply(socket, reader);
    return false;
  };

  try {
    for (;;) {
      let payload: Buffer;
      try {
        payload = await reader.readFrame({ maxSize: options.maxRequest, timeout });
      } catch (err) {
        if (await recover(err)) continue;
        return;
      }
      await send(answer(payload));
    }
  } catch (err) {
    // A reset, a stall mid-frame, a client that stopped reading: nothing useful to tell it.
    const reason = isBftpError(err) ? err.code : (err as Error).message;
    options.log(`dropped ${peer}: ${reason}`);
    socket.destroy();
  }
}

/** The reply to one request payload. */
function answer(payload: Buffer): AverageReply {
  try {
    const numbers = parseAverageRequest(payload);
    return { mean: computeMean(numbers), count: numbers.length };
  } catch (err) {
    if (err instanceof AverageError) return errorReply(err.code, err.message);
    if (isBftpError(err, "BFTP_ERR_BAD_UTF8")) {
      return errorReply("BFTP_ERR_BAD_UTF8", "Cannot read the request: it is not valid UTF-8");
    }
    throw err;
  }
}

interface Refusal {
  readonly reply: ReturnType<typeof errorReply>;
  /** Payload bytes to skip to stay in step; absent when the connection must close. */
  readonly skip?: number;
}

/** How to answer a frame that could not be read, or undefined when nothing can be said. */
function refuseFrame(err: unknown, options: AverageSessionOptions): Refusal | undefined {
  if (!(err instanceof BftpError)) return undefined;
  switch (err.code) {
    case "BFTP_ERR_FRAME_TOO_LARGE": {
      const size = Number(err.details["size"]);
      const reply = errorReply(
        err.code,
        `Cannot accept a request of ${size} bytes: the limit is ${options.maxRequest}`,
      );
      return size <= options.maxDiscard ? { reply, skip: size } : { reply };
    }
    case "BFTP_ERR_BAD_FRAME_HEADER":
      return { reply: errorReply(err.code, "Cannot read a request: expected 8 hex digits") };
    case "BFTP_ERR_TIMEOUT":
      return {
        reply: errorReply(
          err.code,
          `Cannot wait longer: no request within ${options.idleTimeout} ms`,
        ),
      };
    default:
      return undefined;
  }
}

/**
 * Ends our side after the last reply, then reads and discards whatever the client still
 * sends, for a short while. Closing with unread bytes would make the kernel answer with a
 * RST, which can destroy the reply before the client reads it (the "lingering close" of
 * web servers).
 */
async function closeAfterReply(socket: Socket, reader: StreamReader): Promise<void> {
  socket.end();
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  const discard = new Writable({
    write(_chunk, _encoding, done) {
      done();
    },
  });
  try {
    await reader.streamToEnd(discard, { max: Number.MAX_SAFE_INTEGER });
  } catch {
    // The client reset or the linger ran out: either way we are done.
  } finally {
    clearTimeout(timer);
    socket.destroy();
  }
}
