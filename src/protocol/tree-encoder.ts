import { crc32 } from "./crc32.js";
import { HEX_SIZE_HEADER } from "../wire/size-header.js";
import { crc32Hex } from "./checksum.js";
import { crc32Byte, crc32Combine } from "./crc32-combine.js";
import type { WireError } from "./replies.js";
import { RECORD } from "./tree-records.js";

const WIDTH = HEX_SIZE_HEADER.width;
const HEX = Buffer.from("0123456789abcdef");
/** The first arena; it doubles as needed, and each `take()` starts a fresh one. */
const FIRST_ARENA = 64 * 1024;

/**
 * The sender's side of a tree data phase (PROTOCOL.md §8.13): appends records as frames to
 * one buffer (an arena, written in place: no buffer per frame, no copy to join them) and
 * keeps the phase checksum (CRC-32 of every data frame's payload), so a batch of small files
 * becomes one write. `take()` hands out what was built, in memory of its own (so a worker
 * thread can transfer it), and starts a new arena; the checksum runs on across batches, and
 * may be handed to another encoder (a worker builds the next batch from where this stopped).
 *
 * @example
 * const out = new TreeEncoder(1 << 20);
 * out.head("a.txt", 5, 1763700000000); out.data(bytes); out.endOk("3610a686");
 * socket.write(out.take()); socket.write(out.finish());
 */
export class TreeEncoder {
  readonly #maxChunk: number;
  #arena: Buffer;
  #used = 0;
  /** An arena given back (see {@link giveBack}), for the next `take()`. */
  #spare: Buffer | undefined;
  /** Where the frame handed out by `dataFrame` starts, until it is pushed. */
  #reserved = -1;
  /** The phase checksum so far. */
  crc: number;

  /**
   * `maxChunk`: the largest frame the receiver accepts (type byte included); `capacity`: the
   * bytes a batch is expected to reach, so the arena need not grow (and copy) on the way.
   */
  constructor(maxChunk: number, crc = 0, capacity = FIRST_ARENA) {
    this.#maxChunk = maxChunk;
    this.crc = crc;
    this.#arena = Buffer.allocUnsafeSlow(capacity);
  }

  /** Bytes built and not yet taken. */
  get length(): number {
    return this.#used;
  }

  folder(path: string): void {
    this.#json(RECORD.FOLDER, { path });
  }

  head(path: string, size: number, mtime: number): void {
    // The two records of every file are spelled by hand: the same text as JSON.stringify
    // of the object (integers print the same), at a fraction of its cost on the hot path.
    this.#text(RECORD.HEAD, `{"path":${JSON.stringify(path)},"size":${size},"mtime":${mtime}}`);
  }

  /** File bytes, in frames of at most `maxChunk` (copied once, into the arena). */
  data(bytes: Uint8Array): void {
    const room = this.#maxChunk - 1;
    for (let at = 0; at < bytes.length; at += room) {
      const piece = bytes.subarray(at, Math.min(bytes.length, at + room));
      const frame = this.dataFrame(piece.length);
      frame.set(piece, WIDTH + 1);
      this.pushFrame(frame);
    }
  }

  /**
   * A `D` frame of `n` bytes (1 to `maxChunk` − 1), header and type written, whose body the
   * caller fills in place (`frame.subarray(9)`: a file read straight into it), then hands to
   * {@link pushFrame}, or drops by building anything else: a file read once, copied never.
   */
  dataFrame(n: number): Buffer {
    const start = this.#open(WIDTH + 1 + n);
    this.#header(start, 1 + n);
    this.#arena[start + WIDTH] = RECORD.DATA;
    this.#reserved = start;
    return this.#arena.subarray(start, start + WIDTH + 1 + n);
  }

  /**
   * Appends the frame the latest {@link dataFrame} handed out, once filled. `bodyCrc`, when
   * given, is the CRC-32 of the body (what follows the type byte), which the caller took for
   * the file's own checksum: the phase checksum then joins it instead of reading the bytes.
   */
  pushFrame(frame: Buffer, bodyCrc?: number): void {
    if (this.#reserved < 0) throw new Error("pushFrame without dataFrame");
    this.crc =
      bodyCrc === undefined
        ? crc32(frame.subarray(WIDTH), this.crc)
        : crc32Combine(crc32Byte(RECORD.DATA, this.crc), bodyCrc, frame.length - WIDTH - 1);
    this.#used = this.#reserved + frame.length;
    this.#reserved = -1;
  }

  endOk(checksum: string): void {
    this.#text(RECORD.END, `{"ok":true,"checksum":${JSON.stringify(checksum)}}`);
  }

  endError(error: WireError): void {
    this.#json(RECORD.END, { ok: false, error });
  }

  skip(path: string, type: string, error?: WireError): void {
    this.#json(RECORD.SKIP, error === undefined ? { path, type } : { path, type, error });
  }

  kept(path: string): void {
    this.#json(RECORD.KEPT, { path });
  }

  /** A PUTTREE result (§8.14): the file committed, or why it was not. */
  result(path: string, error?: WireError): void {
    this.#json(
      RECORD.RESULT,
      error === undefined ? { path, ok: true } : { path, ok: false, error },
    );
  }

  /** A point to come back to: what is built and the checksum, now. */
  mark(): { readonly used: number; readonly crc: number } {
    return { used: this.#used, crc: this.crc };
  }

  /** Forgets every record built since `mark` (a file that changed while it was read). */
  rollback(mark: { readonly used: number; readonly crc: number }): void {
    this.#used = mark.used;
    this.crc = mark.crc;
    this.#reserved = -1;
  }

  /**
   * Everything built, in memory of its own (transferable), for an encoder used no more: as
   * {@link take} without starting a new arena (a worker's batch: one arena per job).
   */
  takeLast(): Buffer {
    const out = this.#arena.subarray(0, this.#used);
    this.#arena = Buffer.alloc(0);
    this.#used = 0;
    this.#reserved = -1;
    return out;
  }

  /**
   * Everything built since the last take, in memory of its own (transferable); a new arena
   * starts: the one given back with {@link giveBack}, if any, else a fresh one.
   */
  take(): Buffer {
    const out = this.#arena.subarray(0, this.#used);
    const size = Math.max(FIRST_ARENA, Math.min(this.#arena.length, 2 << 20));
    const spare = this.#spare;
    this.#spare = undefined;
    this.#arena =
      spare !== undefined && spare.length >= size ? spare : Buffer.allocUnsafeSlow(size);
    this.#used = 0;
    this.#reserved = -1;
    return out;
  }

  /**
   * Gives back the memory of a batch `take()` handed out, once nothing refers to it any more
   * (its socket write has completed): the next `take()` builds in it rather than in a fresh
   * arena (issue 12: a fresh megabyte per batch was garbage the collector chased).
   */
  giveBack(taken: Buffer): void {
    if (taken.byteOffset === 0 && taken.buffer.byteLength >= FIRST_ARENA)
      this.#spare = Buffer.from(taken.buffer);
  }

  /** The terminator and the trailer: success with the phase checksum, or `error`. */
  finish(error?: WireError): Buffer {
    const trailer = Buffer.from(
      JSON.stringify(
        error === undefined
          ? { ok: true, checksum: { alg: "crc32", value: crc32Hex(this.crc) } }
          : { ok: false, error },
      ),
    );
    const out = Buffer.allocUnsafe(2 * WIDTH + trailer.length);
    HEX_SIZE_HEADER.encode(0).copy(out, 0);
    HEX_SIZE_HEADER.encode(trailer.length).copy(out, WIDTH);
    trailer.copy(out, 2 * WIDTH);
    return out;
  }

  #json(type: number, body: object): void {
    this.#text(type, JSON.stringify(body));
  }

  /** A record whose body is `text`, JSON already. */
  #text(type: number, text: string): void {
    // UTF-8 needs at most 3 bytes per UTF-16 unit: reserve that, write, then count.
    const start = this.#open(WIDTH + 1 + 3 * text.length);
    const n = this.#arena.write(text, start + WIDTH + 1, "utf8");
    this.#header(start, 1 + n);
    this.#arena[start + WIDTH] = type;
    this.crc = crc32(this.#arena.subarray(start + WIDTH, start + WIDTH + 1 + n), this.crc);
    this.#used = start + WIDTH + 1 + n;
  }

  /** Room for `n` more bytes after what is built (a pending `dataFrame` is dropped). */
  #open(n: number): number {
    this.#reserved = -1;
    const need = this.#used + n;
    if (need > this.#arena.length) {
      const bigger = Buffer.allocUnsafeSlow(Math.max(need, 2 * this.#arena.length));
      this.#arena.copy(bigger, 0, 0, this.#used);
      this.#arena = bigger;
    }
    return this.#used;
  }

  /** The 8 hex digits of `length` at `at`. */
  #header(at: number, length: number): void {
    const arena = this.#arena;
    for (let i = WIDTH - 1; i >= 0; i--) {
      arena[at + i] = HEX[length & 0xf] as number;
      length >>>= 4;
    }
  }
}
