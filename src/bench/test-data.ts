/**
 * The bytes `bftp bench` uploads and expects back: a deterministic pseudo-random stream per
 * (seed, size), the AES-128-CTR keystream under a key derived from both. It is generated in
 * pieces as it is sent and generated again as a download arrives, so no file is ever held in
 * memory or written to disk, and every received byte is compared with the byte that was sent.
 * CTR keystream is what makes this cheap: OpenSSL produces it at several GB/s.
 */
import { createCipheriv, createHash, type Cipher } from "node:crypto";
import { Readable, Writable } from "node:stream";

/** Bytes generated per piece of an upload (and the largest zero buffer kept). */
const PIECE = 256 * 1024;
const ZEROS = Buffer.alloc(PIECE);

/** The keystream generator for one (seed, size): the same bytes every time it is made. */
function keystream(seed: number, size: number): Cipher {
  const digest = createHash("sha256").update(`bftp bench ${seed} ${size}`).digest();
  return createCipheriv("aes-128-ctr", digest.subarray(0, 16), digest.subarray(16, 32));
}

/** `n` more bytes of a keystream (any `n`: CTR carries partial blocks over between calls). */
function next(cipher: Cipher, n: number): Buffer {
  if (n <= PIECE) return cipher.update(ZEROS.subarray(0, n));
  const parts: Buffer[] = [];
  for (let left = n; left > 0; left -= PIECE) {
    parts.push(cipher.update(ZEROS.subarray(0, Math.min(PIECE, left))));
  }
  return Buffer.concat(parts);
}

/**
 * A Readable of the `size` test bytes for `seed`, made piece by piece as the consumer reads
 * (backpressure holds generation, so memory stays at a few pieces whatever the size).
 *
 * @example await client.upload(testData(1, 100 * 2 ** 20), "/.bftp-bench-x/104857600")
 */
export function testData(seed: number, size: number): Readable {
  const cipher = keystream(seed, size);
  let left = size;
  return new Readable({
    highWaterMark: PIECE,
    read() {
      if (left === 0) {
        this.push(null);
        return;
      }
      const n = Math.min(PIECE, left);
      left -= n;
      this.push(next(cipher, n));
    },
  });
}

/** Where a download first differed from the test bytes, if it did. */
export interface Mismatch {
  /** Offset of the first byte that differs, or of the first missing or extra byte. */
  readonly offset: number;
  /** Bytes received in all. */
  readonly received: number;
  readonly expected: number;
}

/**
 * A Writable that checks a download byte for byte against the test bytes of (seed, size) and
 * then discards it. It never fails the stream (the transfer runs to its end, so the
 * connection stays in step); read {@link VerifyingSink.mismatch} once the download resolved.
 */
export class VerifyingSink extends Writable {
  readonly #cipher: Cipher;
  readonly #size: number;
  #received = 0;
  #firstDiff: number | undefined;

  constructor(seed: number, size: number) {
    super({ highWaterMark: PIECE });
    this.#cipher = keystream(seed, size);
    this.#size = size;
  }

  /** Bytes received so far. */
  get received(): number {
    return this.#received;
  }

  /** Undefined when every byte arrived as sent and nothing is missing or extra. */
  get mismatch(): Mismatch | undefined {
    const offset =
      this.#firstDiff ??
      (this.#received === this.#size ? undefined : Math.min(this.#received, this.#size));
    return offset === undefined
      ? undefined
      : { offset, received: this.#received, expected: this.#size };
  }

  override _write(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void {
    const start = this.#received;
    this.#received += chunk.length;
    if (this.#firstDiff === undefined) {
      const checkable = Math.max(0, Math.min(chunk.length, this.#size - start));
      const expected = next(this.#cipher, checkable);
      if (!chunk.subarray(0, checkable).equals(expected)) {
        let i = 0;
        while (chunk[i] === expected[i]) i++;
        this.#firstDiff = start + i;
      } else if (checkable < chunk.length) {
        this.#firstDiff = this.#size; // more bytes than were sent
      }
    }
    callback();
  }
}
