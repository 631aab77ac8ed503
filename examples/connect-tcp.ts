/**
 * Connecting a client example to its server, with a deadline and a message that says what
 * to do when nobody is listening: the classic `sock.connect(server)`, made friendly.
 */
import net, { type Socket } from "node:net";
import { formatAddress } from "./command-line.js";

/** Options for {@link connectTcp}. */
export interface ConnectTcpOptions {
  /** Milliseconds to wait for the connection before giving up. */
  readonly timeout: number;
  /** What the user should do when the connection is refused, e.g. how to start the server. */
  readonly hint: string;
}

/**
 * Connects to `host:port` and resolves with the socket once connected. The socket is
 * half-open capable (`allowHalfOpen`), so the client can `end()` its request and still read
 * the reply. Rejects with a plain-language message naming the address and the system code
 * (`ECONNREFUSED`, `ENOTFOUND`, ...) and, for a refused connection, `options.hint`.
 *
 * @example
 * const socket = await connectTcp("127.0.0.1", 2525, { timeout: 10_000, hint: "Start it." });
 */
export function connectTcp(
  host: string,
  port: number,
  options: ConnectTcpOptions,
): Promise<Socket> {
  const where = formatAddress(host, port);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, allowHalfOpen: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`Cannot connect to ${where}: no answer within ${options.timeout / 1000} s`));
    }, options.timeout);
    const onError = (err: NodeJS.ErrnoException): void => {
      clearTimeout(timer);
      reject(
        new Error(`Cannot connect to ${where}: ${describe(err, options.hint)}`, { cause: err }),
      );
    };
    socket.once("error", onError);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.off("error", onError);
      resolve(socket);
    });
  });
}

function describe(err: NodeJS.ErrnoException, hint: string): string {
  switch (err.code) {
    case "ECONNREFUSED":
      return `connection refused (ECONNREFUSED). ${hint}`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `host not found (${err.code}). Check the host name`;
    default:
      return err.code ?? err.message;
  }
}
