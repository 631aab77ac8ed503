import type { Readable, Writable } from "node:stream";
import { BftpError } from "../errors.js";
import type { ChunkQueue } from "./chunk-queue.js";
import type { WaitOptions } from "./deadline.js";
import { toDelimiter } from "./encode-delimited.js";
import { NEED_MORE, ReadEngine, type Consumer } from "./read-engine.js";

export type { Consumer } from "./read-engine.js";
import { HEX_SIZE_HEADER, type SizeHeader } from "./size-header.js";

/** Options for {@link StreamReader}. */
export interface StreamReaderOptions {
  /**
   * Bytes read ahead of demand before the source is paused (and, for a socket, TCP
   * backpressure reaches the sender). A pending read keeps the source flowing until its
   * own limit is reached. Default 256 KiB.
   */
  readonly highWaterMark?: number;
  /**
   * Called by {@link StreamReader.recycle} when every byte fed has been read and no view of
   * one is kept: the source may reuse the memory it read into (`SlabReads.recycle`).
   */
  readonly recycle?: () => void;
}

/** Options for {@link StreamReader.readFrame}. */
export interface ReadFrameOptions extends WaitOptions {
  /** Largest payload accepted; a larger header is refused before any payload is buffered. */
  readonly maxSize: number;
  /** The header format; 8 hex digits by default. */
  readonly header?: SizeHeader;
}

/** Options for {@link StreamReader.readUntil}. */
export interface ReadUntilOptions extends WaitOptions {
  /** Largest message accepted, not counting the delimiter. */
  readonly max: number;
}

/** Options for {@link StreamReader.readToEnd} and {@link StreamReader.streamToEnd}. */
export interface ReadToEndOptions extends WaitOptions {
  /** Most bytes accepted before the peer closes. */
  readonly max: number;
}

/** Options for {@link StreamReader.streamExactly} and {@link StreamReader.streamToEnd}. */
export interface StreamToOptions extends WaitOptions {
  /** End the destination when done (default true); false to write more to it afterwards. */
  readonly end?: boolean;
}

const DEFAULT_HIGH_WATER_MARK = 256 * 1024;

/**
 * Reads messages from any Node byte stream (a socket, a TLS socket, a file, a PassThrough),
 * whatever way its bytes were split: the classic `recv_fixed_size`, `recv_delimited_message`,
 * `recv_size`, `read_string`, `recv_to_file` and `recv_fixed_size_to_file`, correct on every
 * split, with every length checked against a limit before bytes are buffered.
 *
 * One read at a time (a second concurrent read fails with `BFTP_ERR_READ_PENDING`). Every
 * read takes an `AbortSignal` and a `timeout`; a read that fails that way consumes nothing,
 * so the reader stays usable. End of stream before a message begins is
 * `BFTP_ERR_PEER_CLOSED`; in the middle of one, `BFTP_ERR_UNEXPECTED_EOF` with
 * `details.received` and `details.expected`. A failed or destroyed stream is
 * `BFTP_ERR_CONNECTION_LOST`, and every later read fails with that first reason.
 *
 * @example
 * const reader = new StreamReader(socket);
 * const request = await reader.readFrame({ maxSize: 64 * 1024, timeout: 30_000 });
 * const line = await reader.readUntil("\n", { max: 4096 });
 * await reader.streamExactly(size, fs.createWriteStream("copy.bin"));
 */
export class StreamReader {
  // The queue, the waiter, flow control and the pump live in the engine; this class says
  // what a complete message is. #queue is the engine's own queue, held here so the attempts
  // below reach it without a getter call per try.
  readonly #engine: ReadEngine;
  readonly #queue: ChunkQueue;
  readonly #recycle: (() => void) | undefined;

  constructor(source: Readable, options: StreamReaderOptions = {}) {
    this.#engine = new ReadEngine(source, options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK);
    this.#queue = this.#engine.queue;
    this.#recycle = options.recycle;
  }

  /**
   * Says that the caller holds no view of any byte it has read (it wrote them all, and kept
   * none): when nothing is queued either, the source's read memory may be reused (the
   * `recycle` option). A consumer that cannot promise this must not call it.
   */
  recycle(): void {
    if (this.#recycle !== undefined && this.#queue.length === 0) this.#recycle();
  }

  /**
   * Queues bytes the source delivered outside its 'data' events: what a plain socket's
   * `onread` callback receives (see `slabOnread`). Flow control still pauses and resumes the
   * source. The bytes are kept by reference until read, so they must not be overwritten.
   */
  feed(chunk: Buffer): void {
    this.#engine.push(chunk);
  }

  /**
   * Hands the received bytes to `consumer` synchronously as they arrive, until it is done:
   * for a parser that keeps up with the socket without a promise per piece (a data phase
   * written to a file, issue 12). One read at a time, as for every other read.
   *
   * @example
   * await reader.consume({ take: (queue) => queue.length >= 4, hungry: () => true });
   */
  consume(consumer: Consumer): Promise<void> {
    return this.#engine.consume(consumer);
  }

  /** Runs the pending consumer again: it can take more bytes now, or has a failure to throw. */
  wake(): void {
    this.#engine.wake();
  }

  /** Bytes received and not yet read. */
  get buffered(): number {
    return this.#queue.length;
  }

  /** True once the peer has ended the stream and every byte has been read. */
  get ended(): boolean {
    return this.#engine.sourceEnded && this.#queue.length === 0;
  }

  /**
   * Exactly `n` bytes (the classic `recv_fixed_size`); buffers `n` bytes, so bound `n`.
   *
   * @example
   * const magic = await reader.readExactly(4, { timeout: 5000 });
   */
  readExactly(n: number, options: WaitOptions = {}): Promise<Buffer> {
    if (!isLength(n)) return Promise.reject(badLength(n));
    return this.#engine.read(`read ${n} bytes`, options, () =>
      this.#queue.length >= n ? this.#queue.take(n) : this.#endOr(n),
    );
  }

  /**
   * A fixed-length record of `size` bytes, with trailing `pad` bytes removed when `pad` is
   * given (the counterpart of `encodeFixedRecord`; only for payloads that cannot end in `pad`).
   *
   * @example
   * const command = (await reader.readFixedRecord(8, { pad: 0 })).toString(); // "GET"
   */
  async readFixedRecord(
    size: number,
    options: WaitOptions & { pad?: number } = {},
  ): Promise<Buffer> {
    const record = await this.readExactly(size, options);
    if (options.pad === undefined) return record;
    let end = record.length;
    while (end > 0 && record[end - 1] === options.pad) end--;
    return record.subarray(0, end);
  }

  /**
   * The bytes before the next `delimiter` (which is consumed, not returned); the classic
   * `recv_delimited_message` without reading one byte per call. Each byte is examined once
   * however the message is split, and a message longer than `max` fails with
   * `BFTP_ERR_MESSAGE_TOO_LONG` as soon as that is certain, having buffered at most `max`
   * plus one chunk.
   *
   * @example
   * const header = await reader.readUntil("\r\n\r\n", { max: 65536 });
   */
  readUntil(delimiter: Uint8Array | string, options: ReadUntilOptions): Promise<Buffer> {
    const delim = toDelimiter(delimiter);
    const { max } = options;
    if (!isLength(max)) return Promise.reject(badLength(max));
    let from = 0;
    return this.#engine.read("read a delimited message", options, () => {
      const at = this.#queue.indexOf(delim, from);
      if (at === -1) from = Math.max(from, this.#queue.length - delim.length + 1);
      if ((at === -1 ? from : at) > max) {
        throw new BftpError(
          "BFTP_ERR_MESSAGE_TOO_LONG",
          `Cannot read a delimited message: no delimiter within ${max} bytes`,
          { details: { max } },
        );
      }
      if (at === -1) return this.#endOr(undefined);
      const message = this.#queue.take(at);
      this.#queue.skip(delim.length);
      return message;
    });
  }

  /**
   * The payload of one size-header frame (the classic `recv_size`; with
   * `DECIMAL_SIZE_HEADER`, the decimal `read_string`). The header is checked against
   * `maxSize` before any payload byte is buffered: a hostile `ffffffff` costs nothing.
   * On `BFTP_ERR_FRAME_TOO_LARGE` the header has been consumed and `details.size` says how
   * many payload bytes follow, so a caller can `skip()` them and stay in step; after
   * `BFTP_ERR_BAD_FRAME_HEADER` the stream cannot be re-synchronised and should be closed.
   *
   * @example
   * const json = decodeUtf8(await reader.readFrame({ maxSize: 8192, timeout: 30_000 }));
   */
  readFrame(options: ReadFrameOptions): Promise<Buffer> {
    const header = options.header ?? HEX_SIZE_HEADER;
    const { maxSize } = options;
    if (!isLength(maxSize)) return Promise.reject(badLength(maxSize));
    let size = -1;
    return this.#engine.read("read a frame", options, () => {
      const queue = this.#queue;
      if (size < 0) {
        if (queue.length < header.width) return this.#endOr(header.width);
        try {
          size = header.parse(queue.peek(header.width), 0);
        } catch (err) {
          queue.skip(header.width); // the stream is unframed now; the caller should close
          throw err;
        }
        if (size > maxSize) {
          queue.skip(header.width); // the caller may skip(details.size) to stay in step
          throw new BftpError(
            "BFTP_ERR_FRAME_TOO_LARGE",
            `Cannot accept a frame of ${size} bytes: the limit is ${maxSize}`,
            { details: { size, max: maxSize } },
          );
        }
      }
      // Nothing is consumed until the whole frame is here, so a timed-out read loses nothing.
      if (queue.length < header.width + size) return this.#endOr(header.width + size);
      queue.skip(header.width);
      return queue.take(size);
    });
  }

  /**
   * The payload of the next frame if it is already complete in the buffer, without consuming
   * it; otherwise (incomplete, bad header, over `maxSize`) undefined. Lets a sender look for
   * a control message (an ABORT) between data frames without waiting or disturbing the stream.
   *
   * @example
   * const next = reader.peekFrame({ maxSize: 8192 });
   * if (next?.toString() === '{"op":"ABORT"}') stopSending();
   */
  peekFrame(options: {
    readonly maxSize: number;
    readonly header?: SizeHeader;
  }): Buffer | undefined {
    const header = options.header ?? HEX_SIZE_HEADER;
    const queue = this.#queue;
    if (queue.length < header.width) return undefined;
    let size: number;
    try {
      size = header.parse(queue.peek(header.width), 0);
    } catch {
      return undefined;
    }
    if (size > options.maxSize || queue.length < header.width + size) return undefined;
    return queue.peek(header.width + size).subarray(header.width);
  }

  /**
   * Resolves once at least one byte is buffered, consuming nothing; `BFTP_ERR_PEER_CLOSED` at
   * the end of the stream. With a `timeout` this is an idle deadline, kept apart from the
   * deadline for completing a frame once it has begun.
   *
   * @example
   * await reader.waitForData({ timeout: 300_000 });             // idle timeout
   * const frame = await reader.readFrame({ maxSize, timeout: 30_000 }); // frame deadline
   */
  waitForData(options: WaitOptions = {}): Promise<void> {
    return this.#engine.read("wait for data", options, () => {
      if (this.#queue.length > 0) return undefined;
      return this.#endOr(undefined);
    });
  }

  /**
   * Every byte until the peer closes (end-of-connection framing, as HTTP/1.0 bodies), failing
   * with `BFTP_ERR_MESSAGE_TOO_LONG` as soon as more than `max` bytes have arrived.
   *
   * @example
   * const body = await reader.readToEnd({ max: 1 << 20, timeout: 10_000 });
   */
  readToEnd(options: ReadToEndOptions): Promise<Buffer> {
    const { max } = options;
    if (!isLength(max)) return Promise.reject(badLength(max));
    return this.#engine.read("read until the peer closes", options, () => {
      const length = this.#queue.length;
      if (length > max) throw tooLong(max);
      return this.#engine.sourceEnded ? this.#queue.take(length) : NEED_MORE;
    });
  }

  /**
   * Between 1 and `max` bytes: whatever has arrived (a plain `recv`), as a view.
   * Fails with `BFTP_ERR_PEER_CLOSED` at the end of the stream.
   */
  readSome(max: number, options: WaitOptions = {}): Promise<Buffer> {
    if (!isLength(max) || max === 0) return Promise.reject(badLength(max));
    return this.#engine.read("read", options, () => this.#readSomeAttempt(max));
  }

  /**
   * Between 1 and `max` bytes if some are queued now (a view), else undefined: `readSome`
   * without a promise, for a loop that awaits only when nothing has arrived (a PUTTREE's
   * records, issue 12). Failures and the end of the stream are left to `readSome`.
   */
  readSomeNow(max: number): Buffer | undefined {
    if (!isLength(max) || max === 0) throw badLength(max);
    return this.#engine.now(() => (this.#queue.length > 0 ? this.#queue.takeSome(max) : undefined));
  }

  /** Discards exactly `n` bytes as they arrive, without buffering them. */
  async skip(n: number, options: WaitOptions = {}): Promise<void> {
    if (!isLength(n)) throw badLength(n);
    let left = n;
    await this.#engine.exclusive(async () => {
      while (left > 0) {
        const piece = await this.#engine.read(
          "skip bytes",
          options,
          () => this.#bodyAttempt(left, n),
          true,
        );
        left -= piece.length;
      }
    });
  }

  /**
   * Streams exactly `n` bytes into `destination` (the classic `recv_fixed_size_to_file`)
   * through `pipeline()`: the destination's backpressure pauses the source, so memory stays
   * bounded by the high-water marks whatever `n` is, and sizes past 4 GiB work. `timeout`
   * is a stall deadline: the longest wait for the next chunk. Bytes after the `n`th stay
   * queued for the next read. On failure `destination` is destroyed.
   *
   * @example
   * await reader.streamExactly(size, fs.createWriteStream(tmp), { timeout: 60_000 });
   */
  async streamExactly(
    n: number,
    destination: Writable,
    options: StreamToOptions = {},
  ): Promise<void> {
    if (!isLength(n)) throw badLength(n);
    let left = n;
    await this.#engine.pump(
      destination,
      options,
      "stream bytes",
      () => (left === 0 ? null : this.#bodyAttempt(left, n)),
      (chunk) => {
        left -= chunk.length;
      },
    );
  }

  /**
   * Streams every byte until the peer closes into `destination` (the classic
   * `recv_to_file`), failing with `BFTP_ERR_MESSAGE_TOO_LONG` past `max`. Resolves with the
   * byte count.
   *
   * @example
   * const bytes = await reader.streamToEnd(fs.createWriteStream(out), { max: 2 ** 40 });
   */
  async streamToEnd(
    destination: Writable,
    options: ReadToEndOptions & StreamToOptions,
  ): Promise<number> {
    const { max } = options;
    if (!isLength(max)) throw badLength(max);
    let total = 0;
    await this.#engine.pump(
      destination,
      options,
      "stream until the peer closes",
      () => {
        if (this.#queue.length > 0) return this.#queue.takeSome(max - total + 1);
        return this.#engine.sourceEnded ? null : NEED_MORE;
      },
      (chunk) => {
        total += chunk.length;
        if (total > max) throw tooLong(max);
      },
    );
    return total;
  }

  #readSomeAttempt(max: number): Buffer | typeof NEED_MORE {
    if (this.#queue.length > 0) return this.#queue.takeSome(max);
    if (this.#engine.sourceEnded)
      throw new BftpError("BFTP_ERR_PEER_CLOSED", "Cannot read: the peer closed the stream");
    return NEED_MORE;
  }

  /** Next piece of a body of `total` bytes of which `left` remain. */
  #bodyAttempt(left: number, total: number): Buffer | typeof NEED_MORE {
    if (this.#queue.length > 0) return this.#queue.takeSome(left);
    if (this.#engine.sourceEnded) throw eof(total - left, total);
    return NEED_MORE;
  }

  /** NEED_MORE, or when the stream has ended, the EOF error for a message of `expected` bytes. */
  #endOr(expected: number | undefined, alreadyRead = 0): typeof NEED_MORE {
    if (!this.#engine.sourceEnded) return NEED_MORE;
    const received = alreadyRead + this.#queue.length;
    if (received === 0) {
      throw new BftpError(
        "BFTP_ERR_PEER_CLOSED",
        "Cannot read a message: the peer closed the stream",
      );
    }
    throw eof(received, expected === undefined ? undefined : alreadyRead + expected);
  }
}

function isLength(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

function badLength(n: number): BftpError {
  return new BftpError("BFTP_ERR_INVALID_ARGUMENT", `Cannot use length "${n}"`);
}

function tooLong(max: number): BftpError {
  return new BftpError("BFTP_ERR_MESSAGE_TOO_LONG", `Cannot read: more than ${max} bytes arrived`, {
    details: { max },
  });
}

function eof(received: number, expected: number | undefined): BftpError {
  const of = expected === undefined ? "" : ` of ${expected}`;
  return new BftpError(
    "BFTP_ERR_UNEXPECTED_EOF",
    `Cannot read a message: the peer closed the stream after ${received}${of} bytes`,
    { details: { received, expected: expected ?? null } },
  );
}
