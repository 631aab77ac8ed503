/**
 * The raw-pipe baseline: the same bytes over one plain loopback TCP connection between two
 * Node processes, 1 MiB writes with backpressure, no protocol and no files. The bench's side
 * uses the same receive and send functions as the FTP client (data-socket.ts) and the same
 * byte-for-byte check, so "bftp / raw" is what the protocol, the server and the file cost.
 */
import { fork, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import net from "node:net";
import { connectReceiver, sendChunks } from "./data-socket.js";
import { PatternCheck, patternChunks } from "./pattern.js";

type ToPeer =
  | { readonly type: "send"; readonly seed: number; readonly size: number }
  | {
      readonly type: "receive";
      readonly seed: number;
      readonly size: number;
      readonly port: number;
    };
type FromPeer =
  | { readonly type: "ready"; readonly port: number }
  | { readonly type: "armed" }
  | { readonly type: "received"; readonly error?: string };

const STALL_MS = 60_000;

/**
 * The child's side. For a "send" job it serves one connection on its listener with the
 * pattern; for a "receive" job it connects to the parent's port and checks what arrives
 * (connecting, so it can receive through `connectReceiver` like every other receiver here).
 * Exits when the parent disconnects.
 */
export function runRawPeerRole(): void {
  const reply = (message: FromPeer): void => {
    process.send?.(message);
  };
  let job: ToPeer | undefined;
  const server = net.createServer((socket) => {
    const current = job;
    job = undefined;
    socket.on("error", () => {});
    if (current?.type !== "send") {
      socket.destroy();
      return;
    }
    sendChunks(socket, patternChunks(current.seed, current.size)).catch(() => {
      socket.destroy();
    });
  });
  server.listen(0, "127.0.0.1", () => {
    reply({ type: "ready", port: (server.address() as net.AddressInfo).port });
  });
  process.on("message", (message: ToPeer) => {
    if (message.type === "send") {
      job = message;
      reply({ type: "armed" });
      return;
    }
    const check = new PatternCheck(message.seed, message.size);
    const data = connectReceiver(
      { host: "127.0.0.1", port: message.port, stallMs: STALL_MS },
      (chunk) => {
        check.update(chunk);
      },
    );
    reply({ type: "armed" });
    data.closed.then(
      () => {
        try {
          check.verify("raw PUT");
          reply({ type: "received" });
        } catch (err) {
          reply({ type: "received", error: (err as Error).message });
        }
      },
      (err: unknown) => {
        reply({ type: "received", error: (err as Error).message });
      },
    );
  });
  process.on("disconnect", () => {
    process.exit(0);
  });
}

/** The parent's handle on the raw peer process. */
export class RawPeer {
  readonly #child: ChildProcess;
  readonly #port: number;

  private constructor(child: ChildProcess, port: number) {
    this.#child = child;
    this.#port = port;
  }

  /** Forks `script --role raw-peer` and waits for its port. */
  static async start(script: string): Promise<RawPeer> {
    const child = fork(script, ["--role", "raw-peer"], {
      execArgv: [],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    try {
      const [message] = (await once(child, "message", {
        signal: AbortSignal.timeout(10_000),
      })) as [FromPeer];
      if (message.type !== "ready") throw new Error(`unexpected ${message.type}`);
      return new RawPeer(child, message.port);
    } catch (err) {
      child.kill();
      throw new Error("Cannot start the raw-pipe peer", { cause: err });
    }
  }

  /** Receives `size` pattern bytes from the peer; resolves with the elapsed ms. */
  async get(seed: number, size: number): Promise<number> {
    const armed = once(this.#child, "message", { signal: AbortSignal.timeout(10_000) });
    this.#child.send({ type: "send", seed, size } satisfies ToPeer);
    const [reply] = (await armed) as [FromPeer];
    if (reply.type !== "armed") throw new Error(`raw peer: unexpected ${reply.type}`);
    const check = new PatternCheck(seed, size);
    const start = performance.now();
    const data = connectReceiver(
      { host: "127.0.0.1", port: this.#port, stallMs: STALL_MS },
      (c) => {
        check.update(c);
      },
    );
    await data.connected;
    await data.closed;
    const ms = performance.now() - start;
    check.verify("raw GET");
    return ms;
  }

  /** Sends `size` pattern bytes to the peer; resolves with the elapsed ms once it has all. */
  async put(seed: number, size: number): Promise<number> {
    const listener = net.createServer();
    listener.listen(0, "127.0.0.1");
    await once(listener, "listening");
    try {
      const accepted = once(listener, "connection", { signal: AbortSignal.timeout(10_000) });
      const received = once(this.#child, "message", { signal: AbortSignal.timeout(STALL_MS * 2) });
      received.catch(() => {});
      const { port } = listener.address() as net.AddressInfo;
      this.#child.send({ type: "receive", seed, size, port } satisfies ToPeer);
      const [socket] = (await accepted) as [net.Socket];
      const [armed] = (await received) as [FromPeer];
      if (armed.type !== "armed") throw new Error(`raw peer: unexpected ${armed.type}`);
      const done = once(this.#child, "message", { signal: AbortSignal.timeout(STALL_MS * 2) });
      done.catch(() => {});
      socket.on("error", () => {});
      const start = performance.now();
      await sendChunks(socket, patternChunks(seed, size));
      const [message] = (await done) as [FromPeer];
      const ms = performance.now() - start;
      socket.destroy();
      if (message.type === "received" && message.error !== undefined)
        throw new Error(message.error);
      return ms;
    } finally {
      listener.close();
    }
  }

  /** Ends the peer process this handle started. */
  stop(): void {
    if (this.#child.connected) this.#child.disconnect();
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill();
  }
}
