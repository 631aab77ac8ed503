/**
 * Test-side TCP clients for the example servers: connect, write and await the write, read
 * with a deadline. Reads go through `StreamReader` so every one of them has a timeout.
 */
import net, { type Socket } from "node:net";
import { StreamReader } from "../../src/index.js";
import { DEADLINE_MS, withDeadline } from "./examples-spawn.js";

/** A connected test client: the socket and a reader over it. */
export interface TestClient {
  readonly socket: Socket;
  readonly reader: StreamReader;
}

/** Connects to `127.0.0.1:port`, within the deadline. */
export async function connectClient(port: number): Promise<TestClient> {
  const socket = net.connect({ host: "127.0.0.1", port, allowHalfOpen: true });
  // Errors surface through the reader and the awaited writes; never as an uncaught event.
  socket.on("error", () => undefined);
  await withDeadline(
    new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    }),
    `a connection to port ${port}`,
  );
  return { socket, reader: new StreamReader(socket) };
}

/** Writes `data` and resolves once the socket has handed it to the kernel. */
export function send(socket: Socket, data: Uint8Array | string): Promise<void> {
  return withDeadline(
    new Promise<void>((resolve, reject) => {
      socket.write(data, (err) => {
        if (err) reject(err);
        else resolve();
      });
    }),
    "a write to complete",
  );
}

/** Reads exactly `n` bytes, within the deadline. */
export function receive(client: TestClient, n: number): Promise<Buffer> {
  return client.reader.readExactly(n, { timeout: DEADLINE_MS });
}

/** Resolves with the code of the error ending the next read, e.g. `BFTP_ERR_PEER_CLOSED`. */
export async function nextReadFailure(client: TestClient): Promise<string> {
  try {
    const bytes = await client.reader.readSome(65536, { timeout: DEADLINE_MS });
    return `data: ${JSON.stringify(bytes.toString("latin1"))}`;
  } catch (err) {
    return String((err as { code?: unknown }).code ?? err);
  }
}

/** Listens on `127.0.0.1` at port 0 and resolves with the port the system chose. */
export async function listenLocal(server: net.Server): Promise<number> {
  await withDeadline(
    new Promise<void>((resolve) => {
      server.listen(0, "127.0.0.1", resolve);
    }),
    "a test server to listen",
  );
  return (server.address() as net.AddressInfo).port;
}

/** Closes `server` (dropping its connections) and resolves once it has closed. */
export function closeServer(server: net.Server): Promise<void> {
  return withDeadline(
    new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
      if ("closeAllConnections" in server && typeof server.closeAllConnections === "function") {
        (server.closeAllConnections as () => void).call(server);
      }
    }),
    "a test server to close",
  );
}

/** A port on which nothing listens (bound, then released). */
export async function unusedPort(): Promise<number> {
  const server = net.createServer();
  const port = await listenLocal(server);
  await closeServer(server);
  return port;
}
