/**
 * Starting and stopping the example servers the same way: listen, announce the address as
 * the first line of stdout (scripts and tests read the port from it), and on SIGINT or
 * SIGTERM stop accepting, drop open connections and exit 0.
 */
import type { AddressInfo, Server, Socket } from "node:net";
import { formatAddress } from "./command-line.js";

/** Where a server listens. */
export interface ListenAddress {
  /** Interface address; the examples default to `127.0.0.1`. */
  readonly host: string;
  /** TCP port; 0 asks the system for a free one. */
  readonly port: number;
}

/**
 * Listens on `address` and resolves with the bound address (the real port when 0 was asked).
 * Rejects with a message naming the address and the system's reason (`EADDRINUSE`, `EACCES`).
 *
 * @example
 * const bound = await listen(server, { host: "127.0.0.1", port: 0 });
 */
export function listen(server: Server, address: ListenAddress): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      const where = formatAddress(address.host, address.port);
      reject(new Error(`Cannot listen on ${where}: ${err.code ?? err.message}`, { cause: err }));
    };
    server.once("error", onError);
    server.listen(address.port, address.host, () => {
      server.off("error", onError);
      resolve(server.address() as AddressInfo);
    });
  });
}

/**
 * The client's `host:port` for log lines. A client that reset the connection before the
 * server looked has no address any more; it is then "a client that already left".
 */
export function describePeer(socket: Socket): string {
  const { remoteAddress, remotePort } = socket;
  if (remoteAddress === undefined || remotePort === undefined) return "a client that already left";
  return formatAddress(remoteAddress, remotePort);
}

/** Prints `listening on HOST:PORT`: the first line of every example server's stdout. */
export function announceListening(bound: Pick<AddressInfo, "address" | "port">): void {
  process.stdout.write(`listening on ${formatAddress(bound.address, bound.port)}\n`);
}

/**
 * Records the server's open connections so that a shutdown can close them. Connections
 * leave the set when they close.
 */
export function trackConnections(server: Server): Set<Socket> {
  const open = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    open.add(socket);
    socket.once("close", () => open.delete(socket));
  });
  return open;
}

/**
 * On SIGINT or SIGTERM: stop accepting, destroy the open connections, exit 0. Without this
 * the default action would kill the process mid-write with a signal status.
 */
export function stopOnSignals(server: Server, open: ReadonlySet<Socket>): void {
  const stop = (): void => {
    server.close(() => process.exit(0));
    for (const socket of open) socket.destroy();
    // A last resort, so a connection stuck in some state cannot keep the process alive.
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
