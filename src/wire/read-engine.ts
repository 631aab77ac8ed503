import type { Readable, Writable } from "node:stream";
import { BftpError } from "../errors.js";
import { ChunkQueue } from "./chunk-queue.js";
import { armDeadline, type WaitOptions } from "./deadline.js";
import { asError, NEED_MORE, Pump, type PumpOptions } from "./pump.js";

export { NEED_MORE, type PumpOptions } from "./pump.js";

/**
 * One try at completing a read from the queued bytes: the value, `NEED_MORE`, or a thrown
 * BftpError. It is run again each time bytes arrive or the stream ends.
 */
export type Attempt<T> = () => T | typeof NEED_MORE;

/**
 * Takes bytes from the queue synchronously as they arrive (see {@link ReadEngine.consume}):
 * a parser written as a state machine, with no promise per piece.
 */
export interface Consumer {
  /**
   * Takes what it can from `queue`; true once it is done (the bytes after stay queued).
   * `ended` says the source has ended. Throws (a BftpError) to fail.
   */
  take(queue: ChunkQueue, ended: boolean): boolean;
  /** False while it cannot take more: the source then pauses at the high-water mark. */
  hungry(): boolean;
}

interface Waiter {
  attempt: () => boolean; // true once it has settled
  fail: (err: BftpError) => void;
  /** False while the waiter cannot take bytes (a pump whose destination drains). */
  hungry?: () => boolean;
}

/**
 * The byte-queue engine under `StreamReader`: listens to the source, queues what it
 * sends, runs the one pending read's attempt as bytes arrive, keeps the source flowing or
 * paused around the high-water mark, and records the first failure. It knows nothing of
 * messages; the attempts it runs decide what a complete one is.
 *
 * Internal to `wire`: `StreamReader` is the API.
 *
 * @example
 * const engine = new ReadEngine(socket, 256 * 1024);
 * const four = await engine.read("read 4 bytes", {}, () =>
 *   engine.queue.length >= 4 ? engine.queue.take(4) : NEED_MORE,
 * );
 */
export class ReadEngine {
  readonly #source: Readable;
  readonly #queue = new ChunkQueue();
  readonly #highWaterMark: number;
  #waiter: Waiter | undefined;
  #streaming = false;
  #ended = false;
  #failure: BftpError | undefined;
  #paused = false;

  /** Starts listening to `source`, pausing it once `highWaterMark` bytes are unread. */
  constructor(source: Readable, highWaterMark: number) {
    this.#source = source;
    this.#highWaterMark = highWaterMark;
    source.on("data", (chunk: Buffer | string) => {
      this.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
    });
    source.on("end", () => {
      this.#ended = true;
      this.#service();
    });
    source.on("error", (err: Error) => {
      this.#fail(lost("the stream failed", err));
    });
    source.on("close", () => {
      if (!this.#ended) this.#fail(lost("the stream closed before it ended", source.errored));
    });
    if (source.readableEnded) this.#ended = true;
  }

  /**
   * Queues bytes that arrived outside the source's 'data' events (a socket's `onread`,
   * see `slabOnread`), exactly as a 'data' chunk would be; kept by reference, not copied.
   */
  push(chunk: Buffer): void {
    this.#queue.push(chunk);
    this.#service();
  }

  /** The bytes received and not yet read; attempts take from it. */
  get queue(): ChunkQueue {
    return this.#queue;
  }

  /** True once the source has ended (bytes may still be queued). */
  get sourceEnded(): boolean {
    return this.#ended;
  }

  /**
   * Moves chunks produced by `next` (null when done) into `destination`, with what
   * `pipeline()` guarantees: the destination's backpressure is honoured (the source is paused
   * while it drains), it is ended on success and destroyed on failure, and its own failure ends
   * the pump at once without taking bytes meant for the next read. Like `socket.pipe()`, and
   * unlike `pipeline()` over an async generator, chunks move synchronously as they arrive, with
   * no promise per chunk: that keeps `streamExactly` at the raw pipe's speed
   * (perf/wire-bench.ts). `timeout` is a stall deadline: no chunk moved for that long.
   */
  pump(
    destination: Writable,
    options: PumpOptions,
    what: string,
    next: Attempt<Buffer | null>,
    account: (chunk: Buffer) => void,
  ): Promise<void> {
    return this.exclusive(
      () =>
        new Promise<void>((resolve, reject) => {
          const pump: Pump = new Pump(destination, {
            options,
            what,
            next,
            account,
            resolve,
            reject,
            host: {
              failure: () => this.#failure,
              updateFlow: () => {
                this.#updateFlow();
              },
              release: () => {
                if (this.#waiter === pump) this.#waiter = undefined;
                this.#updateFlow();
              },
            },
          });
          // The engine runs the pump as bytes arrive or the stream ends; while the destination
          // drains the pump is not hungry, so the engine pauses its source at the high-water mark.
          this.#waiter = pump;
          if (pump.start()) this.#updateFlow();
        }),
    );
  }

  /**
   * Hands the queue to `consumer` now and each time bytes arrive, the stream ends or
   * {@link wake} is called, until it says it is done (resolves) or throws (rejects). While it
   * is not hungry the source is paused at the high-water mark. Its deadlines are its own: it
   * throws from `take` on a wake.
   */
  consume(consumer: Consumer): Promise<void> {
    return this.read(
      "consume bytes",
      {},
      () => {
        if (consumer.take(this.#queue, this.#ended)) return undefined;
        return NEED_MORE;
      },
      false,
      () => consumer.hungry(),
    );
  }

  /** Runs the pending read's attempt again (a consumer that can take more bytes now). */
  wake(): void {
    this.#service();
  }

  /** Holds the reader for a multi-step operation so no other read interleaves with it. */
  async exclusive(body: () => Promise<void>): Promise<void> {
    const busy = this.#busyError();
    if (busy) throw busy;
    this.#streaming = true;
    try {
      await body();
    } finally {
      this.#streaming = false;
      this.#updateFlow();
    }
  }

  #busyError(): BftpError | undefined {
    if (this.#waiter !== undefined || this.#streaming) {
      return new BftpError("BFTP_ERR_READ_PENDING", "Cannot start a read while another is pending");
    }
    return undefined;
  }

  /**
   * Runs `attempt` now, and again each time bytes arrive or the stream ends, until it
   * returns a value or throws. Reads already satisfied by buffered bytes resolve without
   * waiting, even after the stream failed. `internal` is for a caller that already holds
   * the reader through {@link exclusive}, so the busy check must not refuse it.
   */
  read<T>(
    what: string,
    options: WaitOptions,
    attempt: Attempt<T>,
    internal = false,
    hungry?: () => boolean,
  ): Promise<T> {
    if (!internal) {
      const busy = this.#busyError();
      if (busy) return Promise.reject(busy);
    }
    try {
      const value = attempt();
      if (value !== NEED_MORE) {
        this.#updateFlow();
        return Promise.resolve(value);
      }
    } catch (err) {
      return Promise.reject(asError(err));
    }
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise<T>((resolve, reject) => {
      const settle = (fn: () => void): void => {
        this.#waiter = undefined;
        if (typeof disarm === "function") disarm();
        fn();
        this.#updateFlow();
      };
      const disarm = armDeadline(options, what, (err) => {
        settle(() => {
          reject(err);
        });
      });
      if (disarm instanceof BftpError) {
        reject(disarm);
        return;
      }
      this.#waiter = {
        attempt: () => {
          try {
            const value = attempt();
            if (value === NEED_MORE) return false;
            settle(() => {
              resolve(value);
            });
          } catch (err) {
            settle(() => {
              reject(asError(err));
            });
          }
          return true;
        },
        fail: (err) => {
          settle(() => {
            reject(err);
          });
        },
        ...(hungry === undefined ? {} : { hungry }),
      };
      this.#updateFlow();
    });
  }

  /**
   * Runs `take` now, with no promise, when no read is pending (else `BFTP_ERR_READ_PENDING`),
   * then lets the source flow again if the queue fell below the high-water mark.
   */
  now<T>(take: () => T): T {
    const busy = this.#busyError();
    if (busy) throw busy;
    const value = take();
    this.#updateFlow();
    return value;
  }

  #service(): void {
    this.#waiter?.attempt();
    this.#updateFlow();
  }

  #fail(err: BftpError): void {
    if (this.#failure) return;
    this.#failure = err;
    // Bytes that arrived before the failure may still complete the pending read.
    if (this.#waiter?.attempt() === false) this.#waiter.fail(err);
  }

  /** Reads ahead up to the high-water mark; a pending read keeps the bytes coming. */
  #updateFlow(): void {
    const waiting = this.#waiter !== undefined && this.#waiter.hungry?.() !== false;
    const pause = !waiting && this.#queue.length >= this.#highWaterMark;
    if (pause && !this.#paused) {
      this.#paused = true;
      this.#source.pause();
    } else if (!pause && this.#paused) {
      this.#paused = false;
      this.#source.resume();
    }
  }
}

function lost(why: string, cause: Error | null | undefined): BftpError {
  return new BftpError("BFTP_ERR_CONNECTION_LOST", `Cannot read: ${why}`, cause ? { cause } : {});
}
