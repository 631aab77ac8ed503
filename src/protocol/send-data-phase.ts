import type { Writable } from "node:stream";
import { BftpError } from "../errors.js";
import { HEX_SIZE_HEADER } from "../wire/size-header.js";
import { writeAll } from "../wire/write-all.js";
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
 * went away) throws. The last data frame is held back and leaves in one write with the
 * terminator and trailer, so a small file costs one `writev` in all.
 *
 * @example
 * await sendDataPhase(socket, fs.createReadStream(file, { highWaterMark: 1 << 20 }), {
 *   alg: "crc32", maxChunk: 1 << 20, prefix: [encodeMessage(reply)],
 * });
 */
export async function sendDataPhase(
  out: Writable,
  source: AsyncIterable<Uint8Array>,
  options: SendDataPhaseOptions,
): Promise<SentDataPhase> {
  const sum = createChecksum(options.alg);
  const waits = options.timeout === undefined ? {} : { timeout: options.timeout };
  let pending: Uint8Array[] = [...(options.prefix ?? [])];
  let bytes = 0;
  let failure: BftpError | undefined;
  const iterator = source[Symbol.asyncIterator]();
  let exhausted = false;
  try {
    for (;;) {
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
      for (let at = 0; at < next.value.length; at += options.maxChunk) {
        const piece = next.value.subarray(at, at + options.maxChunk);
        sum.update(piece);
        bytes += piece.length;
        if (pending.length > 0) await writeAll(out, pending, waits);
        pending = [HEX_SIZE_HEADER.encode(piece.length), piece];
      }
      failure = options.shouldStop?.();
      if (failure) break;
    }
  } finally {
    // Stopped early or a write failed: let the source release its file.
    if (!exhausted) await iterator.return?.();
  }
  const checksum = sum.digest();
  const trailer =
    failure === undefined
      ? { ok: true, ...options.trailerFields?.(), checksum: { alg: options.alg, value: checksum } }
      : { ok: false, error: toWireError(failure) };
  await writeAll(out, [...pending, TERMINATOR, encodeMessage(trailer)], waits);
  return { bytes, checksum, failure };
}
