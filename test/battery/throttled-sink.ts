import { createHash, type Hash } from "node:crypto";
import { Writable } from "node:stream";

/** Options for {@link ThrottledSink}. */
export interface ThrottledSinkOptions {
  /** Bytes per second while throttled. */
  readonly bytesPerSecond: number;
  /** How long to stay throttled, ms; full speed afterwards (default: throughout). */
  readonly throttleMs?: number;
}

/**
 * A slow but steady reader for the load checks (S6, L3): a Writable that hashes what it is
 * given and takes it no faster than `bytesPerSecond` for `throttleMs`, then at full speed.
 * Backpressure carries the pace back through the client to the server's socket.
 */
export class ThrottledSink extends Writable {
  readonly #hash: Hash = createHash("sha256");
  readonly #rate: number;
  readonly #throttleMs: number;
  #started = 0;
  #bytes = 0;
  /** Bytes taken while throttled. */
  throttledBytes = 0;

  constructor(options: ThrottledSinkOptions) {
    super({ highWaterMark: 64 * 1024 });
    this.#rate = options.bytesPerSecond;
    this.#throttleMs = options.throttleMs ?? Infinity;
  }

  /** Bytes taken so far. */
  get bytes(): number {
    return this.#bytes;
  }

  /** SHA-256 of everything taken (call once, after the end). */
  digest(): string {
    return this.#hash.digest("hex");
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    const now = Date.now();
    if (this.#started === 0) this.#started = now;
    this.#hash.update(chunk);
    this.#bytes += chunk.length;
    if (now - this.#started >= this.#throttleMs) {
      done();
      return;
    }
    this.throttledBytes = this.#bytes;
    const due = this.#started + (this.#bytes / this.#rate) * 1000;
    setTimeout(done, Math.max(0, due - now));
  }
}
