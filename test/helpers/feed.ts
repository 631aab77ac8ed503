import { Readable } from "node:stream";

/** A readable that delivers exactly these chunks, one `'data'` event each, then ends. */
export function readableFrom(
  pieces: readonly Uint8Array[],
  options: { end?: boolean } = {},
): Readable {
  const stream = new Readable({ read() {} });
  for (const piece of pieces) stream.push(Buffer.from(piece));
  if (options.end ?? true) stream.push(null);
  return stream;
}

/** One way to cut a byte string into chunks, with a name for test output. */
export interface Split {
  readonly name: string;
  readonly pieces: readonly Buffer[];
}

/**
 * Every way the style guide asks a decoder to be fed: whole, byte by byte, and cut in two
 * at every split point.
 */
export function* splits(bytes: Uint8Array): Generator<Split> {
  const all = Buffer.from(bytes);
  yield { name: "whole", pieces: [all] };
  yield { name: "byte by byte", pieces: [...all].map((b) => Buffer.from([b])) };
  for (let i = 1; i < all.length; i++) {
    yield { name: `split at ${i}`, pieces: [all.subarray(0, i), all.subarray(i)] };
  }
}

/** Cuts `bytes` at the given (sorted, in-range) offsets. */
export function cutAt(bytes: Uint8Array, offsets: readonly number[]): Buffer[] {
  const all = Buffer.from(bytes);
  const points = [...new Set(offsets)].filter((o) => o > 0 && o < all.length).sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let start = 0;
  for (const point of points) {
    pieces.push(all.subarray(start, point));
    start = point;
  }
  pieces.push(all.subarray(start));
  return pieces;
}
