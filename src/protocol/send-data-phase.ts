import type { Writable } from "node:stream";
import { BftpError } from "../errors.js";
import { HEX_SIZE_HEADER } from "../wire/size-header.js";
import { writeAll } from "../wire/write-all.js";
import { writeFlushed } from "../wire/write-flushed.js";
import { createChecksum } from "./checksum.js";
import { encodeMessage, toWireError } from "./replies.js";
import type { ChecksumAlg } from "./version.js";

/** Options for {@link sendDataPhase}. */
export interface SendDataPhaseOptions {
  readonly alg: ChecksumAlg;
  /** Largest data frame to send (the receiver's `maxChunk`). */
  readonly maxChunk: number;
  /** Stall deadline for each write, in ms. */
  readonly timeout?: number;
  /** Frames to send first, in the same write as the first data (a GET's reply). */
  readonly prefix?: readonly Uint8Array[];
  /** Fields added to a successful trailer (LIST's `count`), asked for once the data is sent. */
  readonly trailerFields?: () => Readonly<Record<string, unknown>>;
  /** Asked between frames; an error ends the phase early with that error in the trailer. */
  readonly shouldStop?: () => BftpError | undefined;
  /**
   * The bytes the source will yield, when known (a GET's range): then the frame that
   * completes them leaves with the terminator and trailer, and no frame is held back waiting
   * to learn whether it was the last. A source that yields more is cut at `length`.
   */
  readonly length?: number;
  /**
   * The data's checksum, known beforehand (the server's cache of whole files): sent in the
   * trailer as is instead of computed. The receiver's own check still catches data that
   * does not match it.
   */
  readonly checksum?: string;
}

/** What {@link sendDataPhase} sent. */
export interface SentDataPhase {
  readonly bytes: number;
  readonly checksum: string;
  /** Why the phase ended early (the source failed or `shouldStop` said so), if it did. */
  readonly failure: BftpError | undefined;
}

const TERMINATOR = HEX_SIZE_HEADER.encode(0);

/**
 * Sends one data phase (PROTOCOL.md §7): the source's bytes as data frames of at most
 * `maxChunk`, the terminator and the trailer with the checksum. If the source fails (a read
 * error) or `shouldStop` asks, the phase ends at once with an error trailer and the
 * connection stays usable; the failure is returned, not thrown. A failed write (the peer
 * went away) throws.
 *
 * One write is queued behind the socket at a time, and the source is asked for its next
 * chunk only once every chunk it yielded except the latest two has been flushed to `out`:
 * a source may reuse its buffers in a rotation of three (GET does). The last data frame is held back and leaves in one write with the
 * terminator and trailer, so a small file costs one `writev` in all.
 *
 * @example
 * await sendDataPhase(socket, fs.createReadStream(file, { highWaterMark: 1 << 20 }), {
 *   alg: "crc32", maxChunk: 1 << 20, prefix: [encodeMessage(reply)],
 * });
 */
export async function sendDataPhase(
  out: Writable,
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: SendDataPhaseOptions,
): Promise<SentDataPhase> {
  const known = options.checksum;
  const sum = createChecksum(options.alg);
  const waits = options.timeout === undefined ? {} : { timeout: options.timeout };
  const { length } = options;
  // Written with the next frame, or with the terminator: the prefix, then (length unknown)
  // the frame held back until the source says whether it was the last.
  let pending: Uint8Array[] = [...(options.prefix ?? [])];
  // One write queued behind the kernel at a time: while it flushes, the source reads the
  // next chunk (issue 5; a wait for 'drain' after each frame left the socket idle instead).
  let previous: Promise<void> = Promise.resolve();
  const send = async (chunks: Uint8Array[]): Promise<void> => {
    await previous;
    previous = writeFlushed(out, chunks, waits);
    previous.catch(() => undefined); // awaited later; never an unhandled rejection meanwhile
  };
  let bytes = 0;
  let failure: BftpError | undefined;
  const iterator: AsyncIterator<Uint8Array> | Iterator<Uint8Array> =
    Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
  let exhausted = false;
  try {
    while (length === undefined || bytes < length) {
      let next: IteratorResult<Uint8Array>;
      try {
        next = await iterator.next();
      } catch (err) {
        exhausted = true; // a failed iterator is finished
        failure =
          err instanceof BftpError
            ? err
            : new BftpError("BFTP_ERR_INTERNAL", "Cannot read the data to send", { cause: err });
        break;
      }
      if (next.done === true) {
        exhausted = true;
        break;
      }
      const chunk = length === undefined ? next.value : next.value.subarray(0, length - bytes);
      for (let at = 0; at < chunk.length; at += options.maxChunk) {
        const piece = chunk.subarray(at, at + options.maxChunk);
        if (known === undefined) sum.update(piece);
        bytes += piece.length;
        const frame = [HEX_SIZE_HEADER.encode(piece.length), piece];
        if (length === undefined) {
          if (pending.length > 0) await send(pending);
          pending = frame;
        } else if (bytes === length) {
          pending.push(...frame); // the last: it leaves with the terminator and trailer
        } else {
          await send([...pending, ...frame]);
          pending = [];
        }
      }
      failure = options.shouldStop?.();
      if (failure) break;
    }
  } finally {
    // Stopped early or a write failed: let the source release its file.
    if (!exhausted) await iterator.return?.();
    await previous; // a failed write fails the phase
  }
  if (failure === undefined && length !== undefined && bytes < length) {
    failure = new BftpError("BFTP_ERR_INTERNAL", "Cannot send the data: it ended early", {
      details: { sent: bytes, expected: length },
    });
  }
  const checksum = known ?? sum.digest();
  const trailer =
    failure === undefined
      ? { ok: true, ...options.trailerFields?.(), checksum: { alg: options.alg, value: checksum } }
      : { ok: false, error: toWireError(failure) };
  await writeAll(out, [...pending, TERMINATOR, encodeMessage(trailer)], waits);
  return { bytes, checksum, failure };
}
