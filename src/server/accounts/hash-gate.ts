import { BftpError } from "../../errors.js";

/** Options for {@link HashGate}. */
export interface HashGateOptions {
  /** Hash computations at once (each may hold up to 64 MiB). */
  readonly concurrency: number;
  /** Computations waiting for a turn; one more is refused at once. */
  readonly queue: number;
  /** Longest wait for a turn, ms; past it the login is refused. */
  readonly waitMs: number;
}

/**
 * Caps password-hash computations at once (issue 7): scrypt's memory is the point of it, so a
 * burst of logins could otherwise allocate 32 MiB each, all together. Beyond `concurrency`
 * they wait in a bounded queue, each for at most `waitMs`; beyond the queue, or past the wait,
 * `run` rejects with `BFTP_ERR_BUSY` (a reply, not a closed connection).
 *
 * @example
 * const gate = new HashGate({ concurrency: 2, queue: 64, waitMs: 10_000 });
 * const ok = await gate.run(() => verifyPassword(password, stored));
 */
export class HashGate {
  readonly #options: HashGateOptions;
  readonly #waiting: (() => void)[] = [];
  #running = 0;

  constructor(options: HashGateOptions) {
    this.#options = options;
  }

  /** Computations running now. */
  get running(): number {
    return this.#running;
  }

  /** Computations waiting for a turn. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Runs `task` when a turn is free; rejects with `BFTP_ERR_BUSY` when none comes in time. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    await this.#acquire();
    try {
      return await task();
    } finally {
      this.#release();
    }
  }

  async #acquire(): Promise<void> {
    if (this.#running < this.#options.concurrency) {
      this.#running++;
      return;
    }
    if (this.#waiting.length >= this.#options.queue) {
      throw busy(`${this.#options.queue} logins are already waiting`);
    }
    await new Promise<void>((resolve, reject) => {
      const turn = (): void => {
        clearTimeout(timer);
        resolve(); // #release handed its slot over: #running already counts this one
      };
      const timer = setTimeout(() => {
        const at = this.#waiting.indexOf(turn);
        if (at !== -1) this.#waiting.splice(at, 1);
        reject(busy(`no turn within ${this.#options.waitMs} ms`));
      }, this.#options.waitMs);
      this.#waiting.push(turn);
    });
  }

  #release(): void {
    const next = this.#waiting.shift();
    if (next === undefined) this.#running--;
    else next();
  }
}

function busy(why: string): BftpError {
  return new BftpError("BFTP_ERR_BUSY", `Cannot check the password now: ${why}; try again later`);
}
