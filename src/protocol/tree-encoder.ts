import zlib from "node:zlib";
import { HEX_SIZE_HEADER } from "../wire/size-header.js";
import type { WireError } from "./replies.js";
import { RECORD } from "./tree-records.js";

const WIDTH = HEX_SIZE_HEADER.width;

/**
 * The sender's side of a tree data phase (PROTOCOL.md §8.13): appends records as frames to
 * a list of buffers and keeps the phase checksum (CRC-32 of every data frame's payload), so
 * a batch of small files becomes one write. `take()` hands out what was built and starts a
 * new batch; the checksum runs on across batches, and may be handed to another encoder (a
 * worker thread builds the next batch from where this one stopped).
 *
 * @example
 * const out = new TreeEncoder(1 << 20);
 * out.head("a.txt", 5, 1763700000000); out.data(bytes); out.endOk("3610a686");
 * socket.write(out.take()); socket.write(out.finish());
 */
export class TreeEncoder {
  readonly #maxChunk: number;
  #parts: Buffer[] = [];
  #length = 0;
  /** The phase checksum so far. */
  crc: number;

  /** `maxChunk`: the largest frame the receiver accepts (type byte included). */
  constructor(maxChunk: number, crc = 0) {
    this.#maxChunk = maxChunk;
    this.crc = crc;
  }

  /** Bytes built and not yet taken. */
  get length(): number {
    return this.#length;
  }

  folder(path: string): void {
    this.#json(RECORD.FOLDER, { path });
  }

  head(path: string, size: number, mtime: number): void {
    this.#json(RECORD.HEAD, { path, size, mtime });
  }

  /** File bytes, in frames of at most `maxChunk` (the bytes are copied once, into the frame). */
  data(bytes: Uint8Array): void {
    const room = this.#maxChunk - 1;
    for (let at = 0; at < bytes.length; at += room) {
      this.#frame(RECORD.DATA, bytes.subarray(at, Math.min(bytes.length, at + room)));
    }
  }

  /**
   * A `D` frame of `n` bytes (1 to `maxChunk` − 1) whose body the caller fills in place
   * (`frame.subarray(9)`, e.g. a file read straight into it), then hands to {@link pushFrame}
   * or drops: a file read once, copied never.
   */
  dataFrame(n: number): Buffer {
    const frame = Buffer.allocUnsafe(WIDTH + 1 + n);
    HEX_SIZE_HEADER.encode(1 + n).copy(frame, 0);
    frame[WIDTH] = RECORD.DATA;
    return frame;
  }

  /** Appends a frame made by {@link dataFrame}. */
  pushFrame(frame: Buffer): void {
    this.crc = zlib.crc32(frame.subarray(WIDTH), this.crc);
    this.#parts.push(frame);
    this.#length += frame.length;
  }

  endOk(checksum: string): void {
    this.#json(RECORD.END, { ok: true, checksum });
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

  /**
   * Everything built since the last take, as one buffer; `owned`: in a buffer of its own
   * (never a slice of Node's shared pool), so its memory can be transferred to another thread.
   */
  take(owned = false): Buffer {
    let out: Buffer;
    if (owned) {
      out = Buffer.allocUnsafeSlow(this.#length);
      let at = 0;
      for (const part of this.#parts) {
        out.set(part, at);
        at += part.length;
      }
    } else {
      out =
        this.#parts.length === 1
          ? (this.#parts[0] as Buffer)
          : Buffer.concat(this.#parts, this.#length);
    }
    this.#parts = [];
    this.#length = 0;
    return out;
  }

  /** The terminator and the trailer: success with the phase checksum, or `error`. */
  finish(error?: WireError): Buffer {
    const trailer = Buffer.from(
      JSON.stringify(
        error === undefined
          ? { ok: true, checksum: { alg: "crc32", value: this.crc.toString(16).padStart(8, "0") } }
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
    this.#frame(type, Buffer.from(JSON.stringify(body), "utf8"));
  }

  #frame(type: number, body: Uint8Array): void {
    const frame = Buffer.allocUnsafe(WIDTH + 1 + body.length);
    HEX_SIZE_HEADER.encode(1 + body.length).copy(frame, 0);
    frame[WIDTH] = type;
    frame.set(body, WIDTH + 1);
    this.pushFrame(frame);
  }
}
