import { fork, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import net from "node:net";
import { writeAll } from "../src/wire/index.js";
import { makeBodyBlock, makeFrameBlock, type SendBlock } from "./payloads.js";

/** One transfer for a sender to make: connect to `port` and write `bytes` bytes of `kind`. */
export interface SendJob {
  readonly port: number;
  /** A streamed filler body, or pre-encoded 108-byte frames. */
  readonly kind: "body" | "frames";
  /** Total bytes to write (a whole number of frames for `frames`). */
  readonly bytes: number;
  /** Bytes per `writeAll` call. */
  readonly writeSize: number;
}

type ToSender = { readonly type: "send"; readonly job: SendJob };
type FromSender =
  | { readonly type: "ready" }
  | { readonly type: "sent" }
  | { readonly type: "failed"; readonly message: string };

const blocks = new Map<string, SendBlock>();

function blockFor(job: SendJob): SendBlock {
  const key = `${job.kind}:${job.writeSize}`;
  let block = blocks.get(key);
  if (block === undefined) {
    block = job.kind === "body" ? makeBodyBlock(job.writeSize) : makeFrameBlock(job.writeSize);
    blocks.set(key, block);
  }
  return block;
}

/**
 * Connects to 127.0.0.1:`job.port`, writes the job's bytes with `writeAll` (which waits for
 * `'drain'`, so the sender runs at the receiver's pace), ends the socket and resolves once
 * the receiver has closed its side too. The block is built before connecting, so the
 * receiver's clock, which starts at accept, does not time it.
 *
 * @example
 * await sendJob({ port, kind: "body", bytes: 1 << 30, writeSize: 1 << 20 });
 */
export async function sendJob(job: SendJob): Promise<void> {
  const block = blockFor(job).bytes;
  const socket = net.connect({ port: job.port, host: "127.0.0.1" });
  socket.on("error", () => {}); // surfaces through `once` and `writeAll`; must not crash
  try {
    await once(socket, "connect");
    let left = job.bytes;
    while (left > 0) {
      const n = Math.min(left, block.length);
      await writeAll(socket, n === block.length ? block : block.subarray(0, n));
      left -= n;
    }
    socket.end();
    if (!socket.closed) await once(socket, "close");
  } finally {
    socket.destroy();
  }
}

/**
 * The body of the forked sender process: runs each job the parent sends over IPC, one at a
 * time, and exits when the parent disconnects (so it never outlives the bench).
 */
export function runSenderRole(): void {
  const reply = (message: FromSender): void => {
    process.send?.(message);
  };
  process.on("disconnect", () => {
    process.exit(0);
  });
  process.on("message", (message: ToSender) => {
    sendJob(message.job).then(
      () => {
        reply({ type: "sent" });
      },
      (err: unknown) => {
        reply({ type: "failed", message: err instanceof Error ? err.message : String(err) });
      },
    );
  });
  reply({ type: "ready" });
}

/**
 * The parent's handle on a forked sender: a separate process, so sender and receiver do not
 * share an event loop (or a core, when two are free).
 */
export class SenderProcess {
  readonly #child: ChildProcess;
  #pending: { resolve: () => void; reject: (err: Error) => void } | undefined;
  #exited: Error | undefined;

  private constructor(child: ChildProcess) {
    this.#child = child;
    child.on("message", (message: FromSender) => {
      const pending = this.#pending;
      if (message.type === "ready" || pending === undefined) return;
      this.#pending = undefined;
      if (message.type === "sent") pending.resolve();
      else pending.reject(new Error(`The sender failed: ${message.message}`));
    });
    child.on("exit", (code, signal) => {
      this.#exited = new Error(
        `The sender exited (code ${code ?? "none"}, signal ${signal ?? "none"})`,
      );
      this.#pending?.reject(this.#exited);
      this.#pending = undefined;
    });
  }

  /**
   * Forks `script` with `--role sender` and waits until it is ready for jobs.
   * The child gets no `execArgv`, so profiling flags on the parent stay on the parent.
   */
  static async start(script: string, timeoutMs: number): Promise<SenderProcess> {
    const child = fork(script, ["--role", "sender"], {
      execArgv: [],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const sender = new SenderProcess(child);
    try {
      await once(child, "message", { signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      sender.stop();
      throw new Error(`Cannot start the sender process within ${timeoutMs} ms`, { cause: err });
    }
    return sender;
  }

  /** The child's process id (for reading its CPU time from /proc). */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Runs one job in the child; resolves when the child reports the transfer closed. */
  send(job: SendJob): Promise<void> {
    if (this.#exited) return Promise.reject(this.#exited);
    if (this.#pending) return Promise.reject(new Error("Cannot send: a job is still running"));
    return new Promise<void>((resolve, reject) => {
      this.#pending = { resolve, reject };
      this.#child.send({ type: "send", job } satisfies ToSender);
    });
  }

  /** Ends the child this handle started (and only it). */
  stop(): void {
    if (this.#child.connected) this.#child.disconnect();
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill();
  }
}
