/** How far a transfer has come, reported to `onProgress` (numbers only; drawing is the CLI's). */
export interface Progress {
  /** The remote path. */
  readonly name: string;
  /** Bytes moved so far in this transfer (a resumed transfer starts at its offset). */
  readonly bytes: number;
  /** Bytes the finished file will have, when known. */
  readonly total: number | undefined;
  /** Recent rate, bytes per second. */
  readonly rate: number;
}

/** A progress callback. */
export type ProgressHandler = (progress: Progress) => void;

/**
 * Counts bytes and reports at most every `intervalMs` (and always at the end), with a rate
 * averaged over the last reports, so a callback that draws is never called per chunk.
 */
export class ProgressTracker {
  readonly #handler: ProgressHandler | undefined;
  readonly #name: string;
  readonly #total: number | undefined;
  readonly #intervalMs: number;
  #bytes: number;
  #lastAt = 0;
  #lastBytes: number;
  #rate = 0;

  constructor(
    handler: ProgressHandler | undefined,
    name: string,
    total: number | undefined,
    start = 0,
    intervalMs = 100,
  ) {
    this.#handler = handler;
    this.#name = name;
    this.#total = total;
    this.#bytes = start;
    this.#lastBytes = start;
    this.#intervalMs = intervalMs;
    this.#lastAt = performance.now();
  }

  /** Adds `n` bytes; reports if the interval has passed. */
  add(n: number): void {
    this.#bytes += n;
    if (this.#handler === undefined) return;
    const now = performance.now();
    if (now - this.#lastAt >= this.#intervalMs) this.#report(now);
  }

  /** Reports the final figure. */
  finish(): void {
    if (this.#handler !== undefined) this.#report(performance.now());
  }

  #report(now: number): void {
    const seconds = (now - this.#lastAt) / 1000;
    if (seconds > 0) {
      const instant = (this.#bytes - this.#lastBytes) / seconds;
      this.#rate = this.#rate === 0 ? instant : 0.7 * this.#rate + 0.3 * instant;
    }
    this.#lastAt = now;
    this.#lastBytes = this.#bytes;
    this.#handler?.({ name: this.#name, bytes: this.#bytes, total: this.#total, rate: this.#rate });
  }
}
