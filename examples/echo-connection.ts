/**
 * Serving one echo connection: every byte that arrives goes straight back, through
 * `pipeline()`, so a client that sends faster than it reads is slowed by TCP backpressure
 * instead of growing the server's memory. No per-chunk code: the classic recv/send loop
 * is exactly what `pipeline(socket, socket)` does, with flow control and cleanup added.
 */
import type { Socket } from "node:net";
import { pipeline } from "node:stream/promises";
import { describePeer } from "./server-lifecycle.js";

/** Options for {@link echoConnection}. */
export interface EchoConnectionOptions {
  /** Milliseconds without any traffic before the connection is closed. */
  readonly idleTimeout: number;
  /** Where progress lines go (stderr in the examples). */
  readonly log: (line: string) => void;
  /** Prefix for log lines, e.g. `worker 1234 ` in processes mode; empty otherwise. */
  readonly prefix?: string;
}

/**
 * Echoes `socket` until the client half-closes (then ends our side too, after the last byte)
 * or fails. Never rejects: a reset, a timeout or any socket error is logged and ends only
 * this connection. The server must be created with `allowHalfOpen: true`, so that our side
 * stays open to send the echo after the client's FIN.
 *
 * @example
 * net.createServer({ allowHalfOpen: true }, (s) => void echoConnection(s, { idleTimeout, log }));
 */
export async function echoConnection(
  socket: Socket,
  options: EchoConnectionOptions,
): Promise<void> {
  const prefix = options.prefix ?? "";
  const peer = describePeer(socket);
  options.log(`${prefix}serving connection from ${peer}`);
  socket.setTimeout(options.idleTimeout, () => {
    socket.destroy(new Error(`idle for ${options.idleTimeout} ms`));
  });
  try {
    await pipeline(socket, socket);
    options.log(`${prefix}done with ${peer}: ${socket.bytesWritten} bytes echoed`);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    options.log(`${prefix}connection from ${peer} ended early: ${reason}`);
  }
}
