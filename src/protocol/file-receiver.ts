import { BftpError, isBftpError } from "../errors.js";
import type { ChunkQueue } from "../wire/chunk-queue.js";
import { HEX_SIZE_HEADER } from "../wire/size-header.js";
import type { Consumer, StreamReader } from "../wire/stream-reader.js";
import type { Checksum } from "./checksum.js";
import type { DataPhaseLimits, DataPhaseResult } from "./data-phase-reader.js";
import { judgeTrailer } from "./data-phase-trailer.js";

/**
 * One positioned gather write of `buffers` at `position`, reporting once through `done` with
 * the bytes written (`fs.writev` fits; a short write is continued by the caller).
 */
export type WriteAt = (
  buffers: Buffer[],
  position: number,
  done: (err: unknown, bytesWritten: number) => void,
) => void;

/** Options for {@link FileReceiver} (through `DataPhaseReader.receiveFile`). */
export interface FileReceiverOptions {
  /** Where the phase's first byte goes in the file. */
  readonly position: number;
  readonly writeAt: WriteAt;
  /**
   * Most bytes received and not yet written (gathered, or being written), asked as bytes
   * arrive: past it the socket is paused until a write completes.
   */
  readonly backlog: () => number;
  /** Told the size of each piece of data as it arrives (progress). */
  readonly onData?: (bytes: number) => void;
}

/** What {@link FileReceiver.run} received. */
export interface ReceivedFile {
  readonly result: DataPhaseResult;
  /** The file write's error, if one failed (the rest of the phase was read and dropped). */
  readonly writeError: unknown;
}

const HEADER = 0;
const DATA = 1;
const TRAILER = 2;

/** Least bytes gathered for a write while the phase goes on: fewer thread-pool round trips. */
const MIN_WRITE = 256 * 1024;

/**
 * Receives one data phase (PROTOCOL.md §7) into a file (issue 12, item 1): a state machine
 * over the reader's queue (as ws's `Receiver`), run synchronously as bytes arrive, that
 * checks each frame's size before taking its bytes, updates the checksum and hands the data,
 * as views of the received chunks (no copy), to positioned gather writes. The next bytes are
 * received while a write runs; one write is in flight at a time, and once `backlog()` bytes
 * wait, the reader stops taking them, so the socket pauses and TCP backpressure reaches the
 * sender. A failed write switches to dropping the data: the phase is still read to its
 * trailer, in step. The stall deadline counts only waits on the peer, not on the disk.
 *
 * Throws as `DataPhaseReader` does (the connection is then unusable): a bad frame header,
 * a data frame over `maxChunk` or a trailer over `maxTrailer` (`BFTP_ERR_FRAME_TOO_LARGE`),
 * a malformed trailer (`BFTP_ERR_PROTOCOL`), the end of the stream (`BFTP_ERR_UNEXPECTED_EOF`),
 * a stall (`BFTP_ERR_TIMEOUT`); what arrived before is written first (a resumable upload
 * keeps it). Settles only once no write is in flight.
 */
export class FileReceiver implements Consumer {
  readonly #reader: StreamReader;
  readonly #sum: Checksum;
  readonly #limits: DataPhaseLimits;
  readonly #options: FileReceiverOptions;
  #state = HEADER;
  #left = 0; // bytes left in the current data frame
  #bytes = 0;
  #result: DataPhaseResult | undefined;
  // The file side: pieces gathered for the next write, and the write in flight.
  #batch: Buffer[] = [];
  #gathered = 0;
  #inFlight = 0;
  #position: number;
  #writeError: unknown;
  #received = false; // the phase has been read (or failed): flush whatever is gathered
  #idle: (() => void) | undefined;
  #lastProgress = 0;
  #stalled: BftpError | undefined;
  #taking = false; // inside take(): a write that completes at once must not wake it again
  #idleCheck = false; // a check for a pause in the data is scheduled

  constructor(
    reader: StreamReader,
    sum: Checksum,
    limits: DataPhaseLimits,
    options: FileReceiverOptions,
  ) {
    this.#reader = reader;
    this.#sum = sum;
    this.#limits = limits;
    this.#options = options;
    this.#position = options.position;
  }

  /** Bytes of data received so far. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Receives the phase; call once. */
  async run(): Promise<ReceivedFile> {
    const { timeout } = this.#limits;
    let stall: NodeJS.Timeout | undefined;
    if (timeout !== undefined) {
      if (!(Number.isFinite(timeout) && timeout >= 0))
        throw new BftpError("BFTP_ERR_INVALID_ARGUMENT", `Cannot use timeout "${timeout}"`);
      this.#lastProgress = performance.now();
      stall = setInterval(
        () => {
          this.#checkStall(timeout);
        },
        Math.max(5, Math.min(timeout / 4, 1000)),
      );
    }
    let fatal: Error | undefined;
    try {
      await this.#reader.consume(this);
    } catch (err) {
      fatal = isBftpError(err, "BFTP_ERR_PEER_CLOSED")
        ? this.#eof()
        : err instanceof Error
          ? err
          : new Error(String(err));
    } finally {
      clearInterval(stall);
    }
    this.#received = true;
    await this.#flushed();
    if (fatal !== undefined) throw fatal;
    return { result: this.#result as DataPhaseResult, writeError: this.#writeError };
  }

  /** Waiting on the peer (not on the disk) for longer than the deadline is a stall. */
  #checkStall(timeout: number): void {
    if (!this.hungry() || performance.now() - this.#lastProgress < timeout) return;
    this.#stalled = new BftpError(
      "BFTP_ERR_TIMEOUT",
      `Cannot read the data: no progress within ${timeout} ms`,
      { details: { timeout } },
    );
    this.#reader.wake(); // take() throws it
  }

  /** @internal Consumer: false while the writes lag `backlog()` bytes behind. */
  hungry(): boolean {
    return (
      this.#writeError !== undefined || this.#gathered + this.#inFlight < this.#options.backlog()
    );
  }

  /** @internal Consumer: parses what has arrived; true once the trailer is read. */
  take(queue: ChunkQueue, ended: boolean): boolean {
    if (this.#stalled !== undefined) throw this.#stalled;
    this.#taking = true;
    try {
      return this.#parse(queue, ended);
    } finally {
      this.#taking = false;
    }
  }

  #parse(queue: ChunkQueue, ended: boolean): boolean {
    const width = HEX_SIZE_HEADER.width;
    for (;;) {
      if (this.#state === DATA) {
        if (!this.hungry()) return false;
        if (queue.length === 0) {
          this.#release();
          return this.#more(ended);
        }
        const piece = queue.takeSome(this.#left);
        this.#left -= piece.length;
        this.#bytes += piece.length;
        this.#sum.update(piece);
        this.#lastProgress = performance.now();
        this.#options.onData?.(piece.length);
        this.#gather(piece);
        if (this.#left === 0) this.#state = HEADER;
        continue;
      }
      if (queue.length < width) return this.#more(ended);
      const size = HEX_SIZE_HEADER.parse(queue.peek(width), 0);
      this.#lastProgress = performance.now();
      if (this.#state === HEADER) {
        queue.skip(width);
        if (size === 0) {
          this.#state = TRAILER;
        } else if (size > this.#limits.maxChunk) {
          throw new BftpError(
            "BFTP_ERR_FRAME_TOO_LARGE",
            `Cannot accept a data frame of ${size} bytes: the limit is ${this.#limits.maxChunk}`,
            { details: { size, max: this.#limits.maxChunk } },
          );
        } else {
          this.#left = size;
          this.#state = DATA;
        }
        continue;
      }
      // The trailer: its size checked before its bytes are buffered; nothing taken until whole.
      if (size > this.#limits.maxTrailer) {
        queue.skip(width);
        throw new BftpError(
          "BFTP_ERR_FRAME_TOO_LARGE",
          `Cannot accept a frame of ${size} bytes: the limit is ${this.#limits.maxTrailer}`,
          { details: { size, max: this.#limits.maxTrailer } },
        );
      }
      if (queue.length < width + size) return this.#more(ended);
      queue.skip(width);
      this.#result = judgeTrailer(queue.take(size), this.#sum, this.#bytes);
      return true;
    }
  }

  /**
   * Every piece taken is written and none is gathered or being written: this receiver holds
   * no view of a received byte, so the reader's source may reuse its read memory.
   */
  #release(): void {
    if (this.#gathered === 0 && this.#inFlight === 0) this.#reader.recycle();
  }

  #more(ended: boolean): boolean {
    if (ended) throw this.#eof();
    this.#whenIdle();
    return false;
  }

  /**
   * Bytes gathered below a batch while the data pauses (the sender is slow, or stopped
   * mid-phase) are written once a turn of the event loop passes with nothing new: what
   * arrived reaches the file without waiting for the phase to go on (a resumable upload
   * whose server dies keeps it), and while the data flows, writes stay large.
   */
  #whenIdle(): void {
    if (this.#idleCheck || this.#gathered === 0 || this.#inFlight > 0 || this.#received) return;
    this.#idleCheck = true;
    const seen = this.#bytes;
    setImmediate(() => {
      this.#idleCheck = false;
      if (this.#inFlight > 0 || this.#received || this.#gathered === 0) return;
      if (this.#bytes === seen) this.#write();
      else this.#whenIdle(); // still flowing: look again next turn
    });
  }

  #eof(): BftpError {
    return new BftpError(
      "BFTP_ERR_UNEXPECTED_EOF",
      "Cannot finish the transfer: the peer closed the connection",
      { details: { received: this.#bytes, expected: null } },
    );
  }

  #gather(piece: Buffer): void {
    if (this.#writeError !== undefined) return; // dropped: the phase is only read to its end
    this.#batch.push(piece);
    this.#gathered += piece.length;
    if (this.#inFlight === 0 && this.#gathered >= Math.min(MIN_WRITE, this.#options.backlog()))
      this.#write();
  }

  /** Writes every gathered piece in one positioned gather write (continued if short). */
  #write(): void {
    const batch = this.#batch;
    const bytes = this.#gathered;
    this.#batch = [];
    this.#gathered = 0;
    this.#inFlight = bytes;
    const writeRest = (buffers: Buffer[], left: number): void => {
      this.#options.writeAt(buffers, this.#position, (err, written) => {
        if (err === null || err === undefined) {
          this.#position += written;
          if (written > 0 && written < left) {
            writeRest(after(buffers, written), left - written);
            return;
          }
          if (written === 0) err = new Error("writev wrote nothing");
        }
        this.#inFlight = 0;
        this.#lastProgress = performance.now();
        if (err !== null && err !== undefined) {
          this.#writeError ??= err;
          this.#batch = [];
          this.#gathered = 0;
        }
        this.#afterWrite();
      });
    };
    writeRest(batch, bytes);
  }

  #afterWrite(): void {
    if (
      this.#gathered > 0 &&
      (this.#received || this.#gathered >= Math.min(MIN_WRITE, this.#options.backlog()))
    ) {
      this.#write();
    } else if (this.#inFlight === 0 && (this.#gathered === 0 || this.#received)) {
      this.#idle?.();
    } else {
      this.#whenIdle();
    }
    // Room again: take what waits, resume the socket (take() itself goes on by itself).
    if (!this.#received && !this.#taking) this.#reader.wake();
  }

  /** Resolves once every gathered byte is written (or a write failed), no write in flight. */
  #flushed(): Promise<void> {
    if (this.#inFlight === 0 && this.#gathered > 0) this.#write();
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.#idle = () => {
        if (this.#inFlight > 0) return;
        this.#idle = undefined;
        resolve();
      };
    });
  }
}

/** `buffers` without their first `skip` bytes (views, no copy). */
function after(buffers: Buffer[], skip: number): Buffer[] {
  const left: Buffer[] = [];
  let drop = skip;
  for (const buffer of buffers) {
    if (drop >= buffer.length) drop -= buffer.length;
    else {
      left.push(drop > 0 ? buffer.subarray(drop) : buffer);
      drop = 0;
    }
  }
  return left;
}
