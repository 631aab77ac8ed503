import type { Writable } from "node:stream";
import { finished } from "node:stream/promises";
import { BftpError } from "../errors.js";
import type { WaitOptions } from "./deadline.js";

/** What an attempt returns while the bytes it needs have not all arrived. */
export const NEED_MORE = Symbol("need more bytes");

/** How {@link Pump} waits, and whether it ends its destination when done. */
export interface PumpOptions extends WaitOptions {
  /** End the destination when done (default true). */
  readonly end?: boolean;
}

/** What the read engine lends a pump: its failure, and a way to hand the reader back. */
export interface PumpHost {
  /** The source's first failure, if it has failed. */
  failure(): BftpError | undefined;
  /** The pump can take bytes again: the engine resumes its source if it paused it. */
  updateFlow(): void;
  /** The pump has settled: the engine forgets it and updates its flow control. */
  release(): void;
}

/**
 * Moves chunks produced by `next` (null when done, `NEED_MORE` while none is queued) into a
 * Writable, synchronously as they arrive (issue 12: this was a closure-heavy function in
 * `ReadEngine.pump`; its state now lives in fields, as ws's `Receiver` keeps its own). The
 * engine calls {@link attempt} as bytes arrive and {@link fail} when the source fails;
 * while the destination drains the pump is not {@link hungry}, so the engine pauses the
 * source at its high-water mark. Settles once: ends the destination on success (default)
 * and destroys it on failure. `timeout` is a stall deadline: no chunk moved for that long.
 *
 * Internal to `wire`: `StreamReader.streamExactly` and `streamToEnd` are the API.
 */
export class Pump {
  readonly #destination: Writable;
  readonly #options: PumpOptions;
  readonly #what: string;
  readonly #next: () => Buffer | null | typeof NEED_MORE;
  readonly #account: (chunk: Buffer) => void;
  readonly #host: PumpHost;
  readonly #resolve: () => void;
  readonly #reject: (err: Error) => void;
  #settled = false;
  #draining = false;
  #lastProgress = performance.now();
  #stall: NodeJS.Timeout | undefined;

  constructor(
    destination: Writable,
    parts: {
      options: PumpOptions;
      what: string;
      next: () => Buffer | null | typeof NEED_MORE;
      account: (chunk: Buffer) => void;
      host: PumpHost;
      resolve: () => void;
      reject: (err: Error) => void;
    },
  ) {
    this.#destination = destination;
    this.#options = parts.options;
    this.#what = parts.what;
    this.#next = parts.next;
    this.#account = parts.account;
    this.#host = parts.host;
    this.#resolve = parts.resolve;
    this.#reject = parts.reject;
  }

  /**
   * Arms the deadline and the destination's listeners and moves what is queued; false if it
   * settled at once (the engine must not keep it as its pending read).
   */
  start(): boolean {
    const { timeout, signal } = this.#options;
    if (signal?.aborted) {
      this.#onAbort();
      return false;
    }
    if (timeout !== undefined) {
      if (!(Number.isFinite(timeout) && timeout >= 0)) {
        this.fail(new BftpError("BFTP_ERR_INVALID_ARGUMENT", `Cannot use timeout "${timeout}"`));
        return false;
      }
      this.#stall = setInterval(
        () => {
          this.#checkStall(timeout);
        },
        Math.max(5, Math.min(timeout / 4, 1000)),
      );
    }
    signal?.addEventListener("abort", this.#onAbort, { once: true });
    this.#destination.on("drain", this.#onDrain);
    this.#destination.on("error", this.#onError);
    this.#destination.on("close", this.#onClose);
    return !this.attempt();
  }

  /** Moves every chunk available now; true once the pump has settled. */
  attempt(): boolean {
    while (!this.#draining && !this.#settled) {
      let chunk: Buffer | null | typeof NEED_MORE;
      try {
        chunk = this.#next();
        if (chunk === NEED_MORE) {
          const failure = this.#host.failure();
          if (failure === undefined) return this.#settled;
          throw failure;
        }
        if (chunk !== null) this.#account(chunk);
      } catch (err) {
        this.fail(asError(err));
        return true;
      }
      if (chunk === null) {
        this.#finish(undefined);
        return true;
      }
      if (this.#options.timeout !== undefined) this.#lastProgress = performance.now();
      if (!this.#destination.write(chunk)) this.#draining = true;
    }
    return this.#settled;
  }

  /** False while the destination drains. */
  hungry(): boolean {
    return !this.#draining;
  }

  /** Ends the pump with `err` (the source failed, or the deadline passed). */
  fail(err: Error): void {
    this.#finish(err);
  }

  readonly #onDrain = (): void => {
    this.#draining = false;
    if (this.#options.timeout !== undefined) this.#lastProgress = performance.now();
    if (!this.attempt()) this.#host.updateFlow();
  };

  readonly #onError = (err: Error): void => {
    this.#finish(err);
  };

  readonly #onClose = (): void => {
    if (!this.#destination.writableFinished)
      this.#finish(
        new BftpError("BFTP_ERR_CONNECTION_LOST", `Cannot ${this.#what}: the destination closed`),
      );
  };

  readonly #onAbort = (): void => {
    this.#finish(
      new BftpError("BFTP_ERR_ABORTED", `Cannot ${this.#what}: the operation was aborted`, {
        cause: this.#options.signal?.reason,
      }),
    );
  };

  #checkStall(timeout: number): void {
    if (performance.now() - this.#lastProgress < timeout) return;
    this.#finish(
      new BftpError("BFTP_ERR_TIMEOUT", `Cannot ${this.#what}: no progress within ${timeout} ms`, {
        details: { timeout },
      }),
    );
  }

  #finish(err: Error | undefined): void {
    if (this.#settled) return;
    this.#settled = true;
    clearInterval(this.#stall);
    const destination = this.#destination;
    this.#options.signal?.removeEventListener("abort", this.#onAbort);
    destination.off("drain", this.#onDrain);
    destination.off("error", this.#onError);
    destination.off("close", this.#onClose);
    this.#host.release();
    if (err !== undefined) {
      // destroy(err) emits 'error' on a later tick; the caller hears of it through the
      // rejection, so that event must not reach the process as an uncaught exception.
      destination.once("error", () => {});
      destination.destroy(err);
      this.#reject(err);
    } else if (this.#options.end ?? true) {
      destination.end();
      finished(destination).then(this.#resolve, this.#reject);
    } else {
      this.#resolve();
    }
  }
}

/** Attempts throw only BftpErrors; anything else is a bug, surfaced as an Error still. */
export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
