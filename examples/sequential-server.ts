/**
 * The classic sequential server, faithfully: one client is served at a time. Like the
 * Python `while True: accept(); serve()` loop, a second client's TCP connection completes
 * (the kernel's backlog accepts it) but nothing reads its bytes until the first client has
 * gone. Here Node accepts the connection paused (`pauseOnConnect`) and parks it in a queue,
 * which plays the part of the kernel backlog and, like it, has a limit.
 */
import net, { type Server, type Socket } from "node:net";
import { describePeer } from "./server-lifecycle.js";

/** Options for {@link createSequentialServer}. */
export interface SequentialServerOptions {
  /** Connections that may wait while one is served; more are closed at once. */
  readonly maxWaiting: number;
  /** Where progress lines go (stderr in the examples). */
  readonly log: (line: string) => void;
}

/**
 * A server that hands one connection at a time to `serve`, in arrival order; the next is
 * started only when the current socket has closed. `serve` receives a paused socket and
 * starts reading it (piping resumes it); it must not reject.
 *
 * @example
 * const server = createSequentialServer((s) => echoConnection(s, opts), { maxWaiting: 16, log });
 */
export function createSequentialServer(
  serve: (socket: Socket) => Promise<void>,
  options: SequentialServerOptions,
): Server {
  const waiting: Socket[] = [];
  let serving = false;

  const start = (socket: Socket): void => {
    serving = true;
    socket.once("close", () => {
      serving = false;
      const next = waiting.shift();
      if (next !== undefined) start(next);
    });
    void serve(socket);
  };

  return net.createServer({ pauseOnConnect: true, allowHalfOpen: true }, (socket) => {
    if (!serving) {
      start(socket);
      return;
    }
    const peer = describePeer(socket);
    if (waiting.length >= options.maxWaiting) {
      options.log(`refused ${peer}: ${waiting.length} connections already waiting`);
      socket.destroy();
      return;
    }
    waiting.push(socket);
    // A waiting socket is not read, so it rarely fails; if it does, drop it from the queue.
    socket.on("error", () => undefined);
    socket.once("close", () => {
      const at = waiting.indexOf(socket);
      if (at !== -1) waiting.splice(at, 1);
    });
    options.log(
      `accepted ${peer}; it waits until the current client closes (${waiting.length} waiting)`,
    );
  });
}
