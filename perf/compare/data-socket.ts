/**
 * The receiving and sending ends every server is measured with: the FTP client's data
 * connections and the raw-pipe baseline use these same two functions, so a difference in the
 * table is the server's, not the client's.
 */
import net from "node:net";
import { writeAll } from "../../src/wire/index.js";

/**
 * One reusable receive buffer for every connection. `onread` hands each read to the callback
 * synchronously and the callbacks here consume it before returning, so sharing it is safe;
 * it spares an allocation per 64 KiB read, which would otherwise cap the client near the rates
 * the fastest servers reach.
 */
const RECEIVE_BUFFER = Buffer.allocUnsafe(1 << 20);

/** Options for {@link connectReceiver} and {@link connectSender}. */
export interface DataSocketOptions {
  readonly host: string;
  readonly port: number;
  /** Fails the socket when no byte moves for this long, ms. */
  readonly stallMs: number;
}

/**
 * Connects and hands every received chunk to `onChunk` (a view into a shared buffer: copy it
 * if it must outlive the call). Resolve `closed` to know the peer finished.
 */
export function connectReceiver(
  options: DataSocketOptions,
  onChunk: (chunk: Uint8Array) => void,
): { socket: net.Socket; connected: Promise<void>; closed: Promise<void> } {
  const socket = net.connect({
    host: options.host,
    port: options.port,
    onread: {
      buffer: RECEIVE_BUFFER,
      callback: (n, buffer) => {
        onChunk(buffer.subarray(0, n));
        return true;
      },
    },
  });
  return { socket, ...lifecycle(socket, options.stallMs) };
}

/** Connects a socket to send on; see {@link sendChunks}. */
export function connectSender(options: DataSocketOptions): {
  socket: net.Socket;
  connected: Promise<void>;
  closed: Promise<void>;
} {
  const socket = net.connect({ host: options.host, port: options.port });
  return { socket, ...lifecycle(socket, options.stallMs) };
}

/** Writes every chunk honouring backpressure, then ends the socket (our FIN). */
export async function sendChunks(socket: net.Socket, chunks: Iterable<Buffer>): Promise<number> {
  let sent = 0;
  for (const chunk of chunks) {
    await writeAll(socket, chunk);
    sent += chunk.length;
  }
  socket.end();
  return sent;
}

/**
 * `connected` settles when the TCP handshake ends; `closed` when both sides have closed, or
 * rejects with the socket's error or a stall. Both already have a handler attached, so an
 * early failure is never an unhandled rejection: await them where the answer is needed.
 */
function lifecycle(
  socket: net.Socket,
  stallMs: number,
): { connected: Promise<void>; closed: Promise<void> } {
  socket.setTimeout(stallMs, () => {
    socket.destroy(new Error(`Data connection stalled for ${stallMs} ms`));
  });
  const connected = new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("close", () => {
      reject(socket.errored ?? new Error("Data connection closed before it connected"));
    });
  });
  const closed = new Promise<void>((resolve, reject) => {
    socket.on("error", () => {}); // reported through 'close' below
    socket.once("close", () => {
      if (socket.errored) reject(socket.errored);
      else resolve();
    });
  });
  connected.catch(() => {});
  closed.catch(() => {});
  return { connected, closed };
}
