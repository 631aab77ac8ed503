/**
 * The bytes every file of the side-by-side bench holds, and how what a client received is
 * checked against them (issue 5, item 2: "every byte verified").
 *
 * A file is a window onto one endless periodic stream: byte `k` of a file with seed `s` is
 * `PATTERN[(s + k) mod PERIOD]`. The period is a prime just under 1 MiB, so a block that is
 * lost, repeated or moved by any power-of-two distance lands on different bytes and fails the
 * check, and two files with different seeds differ. Checking compares each received chunk with
 * a slice of the pattern (memcmp speed), so the check does not cap the rate being measured,
 * as a crc32 over 4 GB/s would.
 */
import fs from "node:fs";
import { writeAll } from "../../src/wire/index.js";

/** Bytes before the pattern repeats: the largest prime below 2^20. */
export const PERIOD = 1_048_573;

/** Two periods of pseudo-random bytes, so any slice of up to PERIOD bytes is contiguous. */
const DOUBLED: Buffer = (() => {
  const one = Buffer.alloc(PERIOD);
  let x = 0x9e3779b9;
  for (let i = 0; i < PERIOD; i++) {
    // xorshift32: cheap, not compressible, no runs a server could shortcut.
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    one[i] = x & 0xff;
  }
  return Buffer.concat([one, one]);
})();

/**
 * The file's bytes in chunks of at most `chunkSize` (views into one shared buffer, never
 * copies), for uploads and for writing the scratch files.
 */
export function* patternChunks(seed: number, size: number, chunkSize = 1 << 20): Generator<Buffer> {
  const step = Math.min(chunkSize, PERIOD);
  let done = 0;
  while (done < size) {
    const start = (seed + done) % PERIOD;
    const n = Math.min(step, size - done);
    yield DOUBLED.subarray(start, start + n);
    done += n;
  }
}

/** Writes a pattern file of `size` bytes with `seed` (streamed, 1 MiB at a time). */
export async function writePatternFile(file: string, seed: number, size: number): Promise<void> {
  const out = fs.createWriteStream(file);
  try {
    for (const chunk of patternChunks(seed, size)) await writeAll(out, chunk);
    out.end();
    await new Promise<void>((resolve, reject) => {
      out.once("finish", resolve);
      out.once("error", reject);
    });
  } finally {
    out.destroy();
  }
}

/**
 * Checks a stream of received chunks against the file they should be. Call `update` with
 * each chunk as it arrives (it keeps no reference to it), then `verify()` at the end.
 *
 * @example
 * const check = new PatternCheck(seed, size);
 * socket.on("data", (chunk) => check.update(chunk));
 * socket.on("end", () => check.verify("big.bin"));
 */
export class PatternCheck {
  readonly #seed: number;
  readonly #size: number;
  #received = 0;
  #firstBad = -1;

  constructor(seed: number, size: number) {
    this.#seed = seed;
    this.#size = size;
  }

  /** Bytes seen so far. */
  get received(): number {
    return this.#received;
  }

  update(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length) {
      const n = Math.min(chunk.length - at, PERIOD);
      if (this.#firstBad < 0) {
        const expected = this.#received + n <= this.#size;
        const start = (this.#seed + this.#received) % PERIOD;
        if (!expected || !DOUBLED.subarray(start, start + n).equals(chunk.subarray(at, at + n)))
          this.#firstBad = this.#received;
      }
      this.#received += n;
      at += n;
    }
  }

  /** Throws unless exactly the file's bytes arrived, in order. */
  verify(what: string): void {
    if (this.#firstBad >= 0)
      throw new Error(
        `${what}: the bytes differ from the file's from about byte ${this.#firstBad}`,
      );
    if (this.#received !== this.#size)
      throw new Error(`${what}: received ${this.#received} bytes, expected ${this.#size}`);
  }
}

/** Reads a file and checks it holds exactly the pattern for `seed` and `size` (after a PUT). */
export async function verifyPatternFile(file: string, seed: number, size: number): Promise<void> {
  const check = new PatternCheck(seed, size);
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 }))
    check.update(chunk as Buffer);
  check.verify(file);
}
