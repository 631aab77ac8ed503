import type { Writable } from "node:stream";
import { BftpError } from "../errors.js";
import { HEX_SIZE_HEADER } from "../wire/size-header.js";
import { createChecksum, type Checksum } from "./checksum.js";
import { encodeMessage, toWireError } from "./replies.js";
import type { SentDataPhase } from "./send-data-phase.js";
import type { ChecksumAlg } from "./version.js";

/**
 * One positioned read of up to `length` bytes into the start of `buffer`, reporting once
 * through `done` (a callback, so the sender needs no promise per chunk; `fs.read` fits).
 */
export type ReadAt = (
  buffer: Buffer,
  length: number,
  position: number,
  done: (err: unknown, bytesRead: number) => void,
) => void;

/** Options for {@link FileSender}. */
export interface FileSenderOptions {
  readonly alg: ChecksumAlg;
  /** Largest data frame to send (the receiver's `maxChunk`). */
  readonly maxChunk: number;
  /** Stall deadline, in ms: the socket took nothing for that long while bytes waited. */
  readonly timeout?: number;
  /** Frames sent first, in the same write as the first data (a GET's reply). */
  readonly prefix?: readonly Uint8Array[];
  /** The data's checksum, known beforehand (the server's cache): sent as is, not computed. */
  readonly checksum?: string;
  /** Asked between frames; an error ends the phase early with it in the trailer. */
  readonly shouldStop?: () => BftpError | undefined;
  /** Where the bytes start in the file, and how many to send. */
  readonly offset: number;
  readonly length: number;
  readonly readAt: ReadAt;
  /** The read error as the error the trailer carries. */
  readonly readError: (err: unknown) => BftpError;
  /** The error for a file that ends before `length` bytes (default `BFTP_ERR_INTERNAL`). */
  readonly endedEarly?: () => BftpError;
  /**
   * Asked once every byte is read and before the last frame leaves (issue 11: the file's
   * stats compared with those it had when the transfer began); an error ends the phase with it.
   */
  readonly beforeLast?: () => Promise<BftpError | undefined>;
  /**
   * Size for a new buffer (the server's budget share), asked before each is made and when
   * one comes back from the socket: a buffer of another size than this then leaves the
   * rotation, and the next read takes one of today's size.
   */
  readonly bufferSize: () => number;
  /**
   * Largest first buffer, each next one at most twice the largest made before (default: no
   * such ramp). The server's GETs start at 256 KiB: when a hundred start at once, the first
   * of them would otherwise each take 1 MiB while the server still looked quiet and fill the
   * shared slab before the rest had claimed their share (issue 12: peak RSS). A lone large GET
   * reaches 1 MiB by its third read.
   */
  readonly firstBuffer?: number;
  /**
   * How many buffers rotate (default 4): reads run this far ahead of the socket. A function is
   * asked again whenever a buffer comes back from the socket (the server's budget share,
   * which wants fewer and larger buffers as more transfers run).
   */
  readonly buffers?: number | (() => number);
  /**
   * Where buffers come from (the server's arena, transfer-arena.ts); undefined when it has
   * none to spare: then the rotation goes on with the buffers it has (a buffer of its own is
   * made only when it has none). Default: each buffer its own allocation.
   */
  readonly allocate?: (size: number) => Buffer | undefined;
  /** Gives back each buffer `allocate` gave, once nothing reads into it or writes from it. */
  readonly release?: (buffer: Buffer) => void;
  /**
   * Where a phase that holds no buffer waits when `allocate` has none (the server's arena,
   * issue 12: a crowd of GETs takes turns with its buffers rather than each making one of its
   * own): called with `ready`, which is to be handed the next buffer given back, lent as
   * `allocate`'s are; returns a withdrawal. After `waitMs` (default 100) the phase withdraws
   * and makes a buffer of its own, as without this option: a crowd whose sockets do not
   * drain cannot hold the others up for longer.
   */
  readonly wait?: (ready: (buffer: Buffer) => void) => () => void;
  readonly waitMs?: number;
  /**
   * Asked when the socket is done with a lent buffer: true gives it back at once, because
   * another phase waits for one, instead of keeping it for this phase's next read.
   */
  readonly othersWait?: () => boolean;
  /** Told the size of each chunk of data as it is handed to the socket (progress). */
  readonly onSent?: (bytes: number) => void;
}

const TERMINATOR = HEX_SIZE_HEADER.encode(0);

/**
 * Sends one data phase (PROTOCOL.md §7) from a file straight to a socket, with no promise or
 * async generator per chunk (issue 12): positioned reads into a rotation of reused buffers,
 * one read in flight and up to `buffers` read ahead, each buffer's frames handed to the
 * socket corked (header and payload leave in one `writev`) as soon as it is read, and the
 * buffer reused once the socket has flushed it (its write callback). So memory is the
 * rotation, whatever the socket's pace, and the file read, the checksum and the socket's
 * flush overlap. The last frame leaves in one write with the terminator and the trailer.
 *
 * Buffers are recycled by write callbacks rather than `'drain'`: a socket given 1 MiB writes
 * is always over its 16 KiB high-water mark, and `'drain'` fires only once it is empty, which
 * left it idle while the next write was prepared (issue 5). The socket never holds more than
 * the rotation. With a lender that has nothing left (`allocate`, `wait`), a phase may hold no
 * buffer for a while: it waits its turn for one given back, at most `waitMs`, and while
 * others wait it hands each lent buffer back once the socket is done with it.
 *
 * A read error, a file that ends early, `shouldStop` or `beforeLast` end the phase with an
 * error trailer, the connection staying usable: the failure is returned, not thrown. A lost
 * connection or a stall rejects. Either way it settles only once no read is pending, so the
 * caller may close the file at once.
 *
 * @example
 * const sent = await new FileSender(socket, {
 *   alg: "crc32", maxChunk: 1 << 20, offset: 0, length: size, bufferSize: () => 1 << 20,
 *   readAt: (b, n, at, done) => fs.read(fd, b, 0, n, at, done),
 *   readError: (err) => new BftpError("BFTP_ERR_INTERNAL", "Cannot read", { cause: err }),
 * }).run();
 */
export class FileSender {
  readonly #out: Writable;
  readonly #options: FileSenderOptions;
  readonly #sum: Checksum;
  readonly #end: number;
  #made = 0; // buffers in the rotation now
  /** Largest buffer this phase may make next (`firstBuffer`, doubling with each one made). */
  #ramp: number;
  readonly #free: Buffer[] = [];
  /** Buffers `allocate` gave, for `release` once the phase is over and every write is done. */
  readonly #lent: Buffer[] = [];
  /** Read, in file order, not yet handed to the socket: each buffer and its bytes read. */
  readonly #ready: { buffer: Buffer; bytes: number }[] = [];
  #position: number;
  #reading = false;
  #bytes = 0;
  #prefix: Uint8Array[];
  /** Set once the phase stops taking data: the last frame is out, or a failure ends it early. */
  #stopping = false;
  #failure: BftpError | undefined;
  #fatal: Error | undefined;
  #trailerSent = false;
  #flushed = false;
  #waiting = 0; // writes handed to the socket and not yet flushed
  #lastProgress = 0;
  #stall: NodeJS.Timeout | undefined;
  /** Set while waiting for a lent buffer: withdraws the wait and its deadline. */
  #withdraw: (() => void) | undefined;
  #resolve: (sent: SentDataPhase) => void = () => undefined;
  #reject: (err: Error) => void = () => undefined;
  #settled = false;
  #digest: string | undefined;

  constructor(out: Writable, options: FileSenderOptions) {
    this.#out = out;
    this.#options = options;
    this.#sum = createChecksum(options.alg);
    this.#position = options.offset;
    this.#end = options.offset + options.length;
    this.#ramp = options.firstBuffer ?? Number.POSITIVE_INFINITY;
    this.#prefix = [...(options.prefix ?? [])];
  }

  /** Sends the phase; resolves once the trailer is flushed to the socket. Call once. */
  run(): Promise<SentDataPhase> {
    return new Promise<SentDataPhase>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
      const out = this.#out;
      if (out.destroyed || out.writableEnded || out.errored !== null) {
        this.#fail(lost("the stream is already closed", out.errored));
        return;
      }
      const { timeout } = this.#options;
      if (timeout !== undefined) {
        if (!(Number.isFinite(timeout) && timeout >= 0)) {
          this.#fail(new BftpError("BFTP_ERR_INVALID_ARGUMENT", `Cannot use timeout "${timeout}"`));
          return;
        }
        this.#lastProgress = performance.now();
        this.#stall = setInterval(
          () => {
            this.#checkStall(timeout);
          },
          Math.max(5, Math.min(timeout / 4, 1000)),
        );
      }
      out.on("close", this.#onClose);
      if (this.#end === this.#position) {
        this.#stopping = true;
        this.#finish();
        return;
      }
      this.#read();
    });
  }

  readonly #onClose = (): void => {
    if (!this.#flushed) this.#fail(lost("the stream closed", this.#out.errored));
  };

  #checkStall(timeout: number): void {
    if (this.#waiting === 0 || performance.now() - this.#lastProgress < timeout) return;
    this.#fail(
      new BftpError(
        "BFTP_ERR_TIMEOUT",
        `Cannot write all bytes: no progress within ${timeout} ms`,
        {
          details: { timeout },
        },
      ),
    );
  }

  /** How many buffers may rotate now (at least one). */
  #most(): number {
    const { buffers } = this.#options;
    const most = typeof buffers === "function" ? buffers() : (buffers ?? 4);
    return Math.max(1, most);
  }

  /** The size for the next buffer: the caller's, within the ramp. */
  #size(): number {
    return Math.min(this.#options.bufferSize(), this.#ramp);
  }

  /** Starts the next read if none is running, a buffer is free and bytes are left. */
  #read(): void {
    if (this.#reading || this.#stopping || this.#fatal || this.#position >= this.#end) return;
    if (this.#withdraw !== undefined) return; // waiting for a lent buffer
    let buffer = this.#free.pop();
    if (buffer === undefined) {
      if (this.#made >= this.#most()) return; // every buffer is read ahead or in the socket
      const size = this.#size();
      const lent = this.#options.allocate?.(size);
      if (lent === undefined && this.#options.allocate !== undefined) {
        // The arena is full: go on with the buffers already made (a flush frees one), or
        // wait for one given back, or make one.
        if (this.#made >= 1) return;
        if (this.#options.wait !== undefined) {
          this.#await(this.#options.wait);
          return;
        }
      }
      buffer = lent ?? Buffer.allocUnsafe(size);
      this.#adopt(buffer, lent !== undefined);
    }
    this.#readInto(buffer);
  }

  /** Counts a new buffer in the rotation (and among the lent ones, to give back). */
  #adopt(buffer: Buffer, lent: boolean): void {
    this.#made++;
    if (lent) this.#lent.push(buffer);
    this.#ramp = Math.max(this.#ramp, 2 * buffer.length);
  }

  /** Waits for a lent buffer, or, after `waitMs`, makes one. */
  #await(wait: (ready: (buffer: Buffer) => void) => () => void): void {
    // Set before `wait` is called: a lender may hand a buffer over before it returns.
    const wanted: { withdraw?: () => void; timer?: NodeJS.Timeout } = {};
    const stop = (): void => {
      clearTimeout(wanted.timer);
      wanted.withdraw?.();
      this.#withdraw = undefined;
    };
    this.#withdraw = stop;
    const resume = (buffer: Buffer, lent: boolean): void => {
      stop();
      this.#adopt(buffer, lent);
      this.#free.push(buffer);
      this.#read();
    };
    wanted.timer = setTimeout(() => {
      resume(Buffer.allocUnsafe(this.#size()), false);
    }, this.#options.waitMs ?? 100);
    wanted.withdraw = wait((buffer) => {
      if (this.#withdraw !== stop) {
        this.#options.release?.(buffer); // no longer wanted: the phase ended or gave up
        return;
      }
      resume(buffer, true);
    });
  }

  #readInto(buffer: Buffer): void {
    this.#reading = true;
    const want = Math.min(buffer.length, this.#end - this.#position);
    const target = buffer;
    this.#options.readAt(target, want, this.#position, (err, bytesRead) => {
      this.#onRead(target, err, bytesRead);
    });
  }

  #onRead(buffer: Buffer, err: unknown, bytesRead: number): void {
    this.#reading = false;
    this.#lastProgress = performance.now();
    if (this.#fatal) {
      this.#settle();
      return;
    }
    if (this.#failure !== undefined) {
      this.#free.push(buffer); // stopped early while this read ran: now the trailer can go
      this.#finish();
      return;
    }
    if (err !== null && err !== undefined) {
      this.#free.push(buffer);
      this.#stop(this.#options.readError(err));
      return;
    }
    if (bytesRead === 0) {
      this.#free.push(buffer);
      this.#stop(
        this.#options.endedEarly?.() ??
          new BftpError("BFTP_ERR_INTERNAL", "Cannot send the data: it ended early", {
            details: { sent: this.#bytes, expected: this.#options.length },
          }),
      );
      return;
    }
    this.#position += bytesRead;
    this.#ready.push({ buffer, bytes: bytesRead });
    this.#read();
    this.#send();
  }

  /** Hands every chunk read so far to the socket, checking for a stop between frames. */
  #send(): void {
    while (this.#ready.length > 0 && !this.#stopping && !this.#fatal) {
      // Asked after each chunk has gone, as sendDataPhase did: the first always leaves (with
      // the reply), so an ABORT pipelined behind a GET finds it running (PROTOCOL.md §7.2).
      const failure = this.#bytes === 0 ? undefined : this.#options.shouldStop?.();
      if (failure !== undefined) {
        this.#stop(failure);
        return;
      }
      const { buffer, bytes } = this.#ready.shift() as { buffer: Buffer; bytes: number };
      const chunk = buffer.subarray(0, bytes);
      if (this.#options.checksum === undefined) this.#sum.update(chunk);
      this.#bytes += chunk.length;
      this.#options.onSent?.(chunk.length);
      const frames = this.#frames(chunk);
      if (this.#bytes === this.#options.length) {
        this.#last(frames);
        return;
      }
      this.#write(frames, () => {
        this.#recycle(buffer);
        this.#read();
      });
    }
  }

  /**
   * A buffer the socket is done with goes back in the rotation, unless the rotation should
   * now hold fewer buffers, or buffers of another size: a GET that began while the server was
   * quiet, now in a crowd, gives its large buffers back; one whose first buffers were small
   * (the ramp, a crowd that has gone) replaces them with larger ones. A lent buffer goes back
   * to its lender, one of the phase's own to the collector; the next read takes one of
   * today's size.
   */
  #recycle(buffer: Buffer): void {
    const size = this.#size();
    const index = this.#lent.indexOf(buffer);
    // A lent one smaller than asked for, from an arena that was full, is taken again at once
    // if that is still all there is (a scan of the arena's block map, against a read).
    // A lent one also goes back at once when another phase waits for a buffer: the crowd
    // takes turns with the arena's buffers, first come first served.
    if (
      buffer.length !== size ||
      this.#made > this.#most() ||
      (index >= 0 && this.#options.othersWait?.() === true)
    ) {
      this.#made--;
      if (index >= 0) {
        this.#lent.splice(index, 1);
        this.#options.release?.(buffer);
      }
      return;
    }
    this.#free.push(buffer);
  }

  /** The chunk as data frames of at most `maxChunk`, after whatever prefix is still unsent. */
  #frames(chunk: Buffer): Uint8Array[] {
    const frames = this.#prefix;
    this.#prefix = [];
    const { maxChunk } = this.#options;
    for (let at = 0; at < chunk.length; at += maxChunk) {
      const piece = chunk.subarray(at, at + maxChunk);
      frames.push(HEX_SIZE_HEADER.encode(piece.length), piece);
    }
    return frames;
  }

  /** The last chunk: after `beforeLast` agrees, it leaves with the terminator and trailer. */
  #last(frames: Uint8Array[]): void {
    this.#stopping = true;
    const check = this.#options.beforeLast;
    if (check === undefined) {
      this.#finish(frames);
      return;
    }
    check().then(
      (failure) => {
        if (failure === undefined) this.#finish(frames);
        else {
          this.#failure = failure;
          this.#finish();
        }
      },
      (err: unknown) => {
        this.#failure = this.#options.readError(err);
        this.#finish();
      },
    );
  }

  /** Ends the phase early with `failure` in the trailer, once no read is pending. */
  #stop(failure: BftpError): void {
    this.#failure = failure;
    this.#stopping = true;
    for (const { buffer } of this.#ready.splice(0)) this.#free.push(buffer);
    this.#finish();
  }

  /** Writes the rest (data, terminator, trailer) once no read is pending. */
  #finish(frames: Uint8Array[] = []): void {
    if (this.#reading || this.#trailerSent || this.#fatal) return;
    this.#trailerSent = true;
    const failure = this.#failure;
    const checksum = this.#checksum();
    const trailer =
      failure === undefined
        ? { ok: true, checksum: { alg: this.#options.alg, value: checksum } }
        : { ok: false, error: toWireError(failure) };
    const all = [...this.#prefix, ...frames, TERMINATOR, encodeMessage(trailer)];
    this.#prefix = [];
    this.#write(all, () => {
      this.#flushed = true;
      this.#settle();
    });
  }

  /** Hands `chunks` to the socket in one corked write; `flushed` runs once they are. */
  #write(chunks: readonly Uint8Array[], flushed: () => void): void {
    const out = this.#out;
    if (out.destroyed || out.writableEnded) {
      this.#fail(lost("the stream closed", out.errored));
      return;
    }
    this.#waiting++;
    out.cork();
    chunks.forEach((chunk, i) => {
      if (i < chunks.length - 1) {
        out.write(chunk);
        return;
      }
      out.write(chunk, (err?: Error | null) => {
        this.#waiting--;
        this.#lastProgress = performance.now();
        // A socket destroyed with a write pending calls back with no error: not flushed.
        if (err) this.#fail(lost("the stream failed", err));
        else if (out.destroyed) this.#fail(lost("the stream closed", out.errored));
        else if (!this.#fatal) flushed();
        this.#giveBack();
      });
    });
    out.uncork();
  }

  /** The checksum of the bytes sent, computed once (a SHA-256 digest can be taken only once). */
  #checksum(): string {
    this.#digest ??= this.#options.checksum ?? this.#sum.digest();
    return this.#digest;
  }

  #fail(err: Error): void {
    this.#fatal ??= err;
    this.#settle();
  }

  /** Resolves or rejects once no read is pending (the caller then closes the file). */
  #settle(): void {
    if (this.#settled || this.#reading) return;
    if (this.#fatal === undefined && !this.#flushed) return;
    this.#settled = true;
    this.#withdraw?.();
    clearInterval(this.#stall);
    this.#out.off("close", this.#onClose);
    if (this.#fatal !== undefined) this.#reject(this.#fatal);
    else this.#resolve({ bytes: this.#bytes, checksum: this.#checksum(), failure: this.#failure });
    this.#giveBack();
  }

  /**
   * Releases the lent buffers once the phase is settled, no read is pending and the socket
   * has called back every write (after a lost connection, the writes it still held).
   */
  #giveBack(): void {
    if (!this.#settled || this.#reading || this.#waiting > 0) return;
    for (const buffer of this.#lent.splice(0)) this.#options.release?.(buffer);
  }
}

function lost(why: string, cause: Error | null | undefined): BftpError {
  return new BftpError("BFTP_ERR_CONNECTION_LOST", `Cannot write: ${why}`, {
    ...(cause ? { cause } : {}),
  });
}
