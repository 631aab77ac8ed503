import { once } from "node:events";
import net from "node:net";

/** Two ends of one real TCP connection on 127.0.0.1, for tests of byte-stream behaviour. */
export interface SocketPair {
  /** The connecting side. */
  readonly client: net.Socket;
  /** The accepted side. */
  readonly server: net.Socket;
  /** Destroys both ends and closes the listener. */
  readonly close: () => Promise<void>;
}

/** Opens a listener on 127.0.0.1 port 0, connects to it, and returns both ends. */
export async function socketPair(): Promise<SocketPair> {
  const listener = net.createServer();
  listener.listen(0, "127.0.0.1");
  await once(listener, "listening");
  const { port } = listener.address() as net.AddressInfo;
  const accepted = once(listener, "connection") as Promise<[net.Socket]>;
  const client = net.connect(port, "127.0.0.1");
  await once(client, "connect");
  const [server] = await accepted;
  listener.close();
  // Tests destroy ends on purpose; an unhandled 'error' must not crash the runner.
  client.on("error", () => {});
  server.on("error", () => {});
  return {
    client,
    server,
    close: async () => {
      client.destroy();
      server.destroy();
      if (listener.listening) await once(listener, "close");
    },
  };
}
