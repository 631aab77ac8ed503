import { BftpError, isBftpError } from "../errors.js";
import { HEX_SIZE_HEADER } from "../wire/size-header.js";
import type { StreamReader } from "../wire/stream-reader.js";
import { createChecksum, type Checksum } from "./checksum.js";
import { FileReceiver, type FileReceiverOptions } from "./file-receiver.js";
import { judgeTrailer } from "./data-phase-trailer.js";
import type { ChecksumAlg } from "./version.js";

/** Limits for receiving a data phase. */
export interface DataPhaseLimits {
  /** Largest data frame accepted (PROTOCOL.md §11, `maxChunk`). */
  readonly maxChunk: number;
  /** Largest trailer frame accepted. */
  readonly maxTrailer: number;
  /** Stall deadline: the longest wait for the next bytes, in ms. */
  readonly timeout?: number;
}

/** What a finished data phase carried. */
export interface DataPhaseResult {
  /** Bytes of data received. */
  readonly bytes: number;
  /** The receiver's own checksum of those bytes. */
  readonly checksum: string;
  /**
   * Why the transfer failed though the stream stayed in step: the sender's abort
   * (`BFTP_ERR_TRANSFER_ABORTED`, or the sender's own code) or a checksum mismatch
   * (`BFTP_ERR_CHECKSUM_MISMATCH`). Undefined when the data is verified.
   */
  readonly failure: BftpError | undefined;
}

/**
 * Receives one data phase (PROTOCOL.md §7): data frames, the zero-length terminator and the
 * trailer, checking the sender's checksum against its own. Stream the bytes with `chunks()`
 * (e.g. into `pipeline()` with a file); if the destination fails, `drain()` reads and
 * discards the rest so the connection stays in step. Memory is bounded by the reader's
 * high-water mark whatever the frame size: frames are streamed, never buffered whole.
 *
 * Throws (the connection is then unusable) on a bad frame header, a data frame over
 * `maxChunk`, a malformed trailer (`BFTP_ERR_PROTOCOL`), the end of the stream
 * (`BFTP_ERR_UNEXPECTED_EOF`) or a stall (`BFTP_ERR_TIMEOUT`).
 *
 * @example
 * const phase = new DataPhaseReader(reader, "crc32", { maxChunk: 1 << 20, maxTrailer: 8192 });
 * await pipeline(phase.chunks(), fs.createWriteStream(tmp));
 * const { failure } = phase.result; // undefined: verified
 */
export class DataPhaseReader {
  readonly #reader: StreamReader;
  readonly #limits: DataPhaseLimits;
  readonly #sum: Checksum;
  #left = 0; // bytes left in the current data frame
  #bytes = 0;
  #result: DataPhaseResult | undefined;
  /** The latest read, which may still be pending when a consumer gave up on `chunks()`. */
  #reading: Promise<Buffer | null> | undefined;
  #receiver: FileReceiver | undefined;

  constructor(reader: StreamReader, alg: ChecksumAlg, limits: DataPhaseLimits) {
    this.#reader = reader;
    this.#limits = limits;
    this.#sum = createChecksum(alg);
  }

  /** The outcome; available once `chunks()` is exhausted or `drain()` resolved. */
  get result(): DataPhaseResult {
    if (this.#result === undefined) {
      throw new BftpError(
        "BFTP_ERR_INVALID_ARGUMENT",
        "Cannot report a data phase that has not ended",
      );
    }
    return this.#result;
  }

  /** Bytes of data received so far. */
  get bytes(): number {
    return this.#receiver?.bytes ?? this.#bytes;
  }

  /** The data, piece by piece, as it arrives (views into received chunks). */
  async *chunks(): AsyncGenerator<Buffer, void, undefined> {
    for (let piece = await this.#next(); piece !== null; piece = await this.#next()) yield piece;
  }

  /**
   * The data, one whole frame at a time (for LIST, whose frames are each a JSON array).
   * Frames are bounded by `maxChunk`, so buffering one is bounded too.
   */
  async *frames(): AsyncGenerator<Buffer, void, undefined> {
    while (this.#result === undefined) {
      const first = await this.#next();
      if (first === null) return;
      if (this.#left === 0) {
        yield first;
        continue;
      }
      const parts = [first];
      while (this.#left > 0) {
        const piece = await this.#next();
        if (piece === null) break;
        parts.push(piece);
      }
      yield Buffer.concat(parts);
    }
  }

  /**
   * Receives the whole phase into a file as fast as it arrives (FileReceiver, issue 12): the
   * frames parsed synchronously as bytes arrive, the data written by `options.writeAt` in
   * batches, the socket paused while the writes lag. Only before any of the phase is read.
   * Throws as `chunks()` does when the stream fails (what arrived is written first); a failed
   * file write does not throw: the rest of the phase is read and dropped, `result` is set,
   * and the write's error is returned.
   */
  async receiveFile(options: FileReceiverOptions): Promise<unknown> {
    if (this.#result !== undefined || this.#bytes > 0 || this.#left > 0 || this.#reading) {
      throw new BftpError(
        "BFTP_ERR_INVALID_ARGUMENT",
        "Cannot receive into a file a data phase already begun",
      );
    }
    const receiver = new FileReceiver(this.#reader, this.#sum, this.#limits, options);
    this.#receiver = receiver;
    const { result, writeError } = await receiver.run();
    this.#result = result;
    this.#bytes = result.bytes;
    return writeError;
  }

  /** Reads and discards whatever is left of the phase, trailer included. */
  async drain(): Promise<DataPhaseResult> {
    // A consumer that stopped in the middle of a read (its destination failed while
    // `chunks()` waited for data) leaves that read pending: let it finish first, or this one
    // would collide with it (BFTP_ERR_READ_PENDING) and the connection would be lost.
    await this.#reading?.catch(() => null);
    while ((await this.#next()) !== null);
    return this.result;
  }

  #next(): Promise<Buffer | null> {
    const read = this.#read();
    this.#reading = read;
    return read;
  }

  async #read(): Promise<Buffer | null> {
    if (this.#result !== undefined) return null;
    const waits = this.#limits.timeout === undefined ? {} : { timeout: this.#limits.timeout };
    try {
      if (this.#left === 0) {
        const size = HEX_SIZE_HEADER.parse(
          await this.#reader.readExactly(HEX_SIZE_HEADER.width, waits),
          0,
        );
        if (size === 0) {
          this.#result = await this.#readTrailer();
          return null;
        }
        if (size > this.#limits.maxChunk) {
          throw new BftpError(
            "BFTP_ERR_FRAME_TOO_LARGE",
            `Cannot accept a data frame of ${size} bytes: the limit is ${this.#limits.maxChunk}`,
            { details: { size, max: this.#limits.maxChunk } },
          );
        }
        this.#left = size;
      }
      const piece = await this.#reader.readSome(this.#left, waits);
      this.#left -= piece.length;
      this.#bytes += piece.length;
      this.#sum.update(piece);
      return piece;
    } catch (err) {
      if (isBftpError(err, "BFTP_ERR_PEER_CLOSED")) {
        throw new BftpError(
          "BFTP_ERR_UNEXPECTED_EOF",
          "Cannot finish the transfer: the peer closed the connection",
          {
            details: { received: this.#bytes, expected: null },
          },
        );
      }
      throw err;
    }
  }

  async #readTrailer(): Promise<DataPhaseResult> {
    const waits = this.#limits.timeout === undefined ? {} : { timeout: this.#limits.timeout };
    const payload = await this.#reader.readFrame({ maxSize: this.#limits.maxTrailer, ...waits });
    return judgeTrailer(payload, this.#sum, this.#bytes);
  }
}
