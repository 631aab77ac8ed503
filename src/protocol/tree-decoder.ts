import { crc32 } from "./crc32.js";
import { BftpError, type ErrorCode } from "../errors.js";
import { decodeUtf8 } from "../wire/decode-utf8.js";
import { HEX_SIZE_HEADER } from "../wire/size-header.js";
import { createChecksum, crc32Hex, updateWithCrc, type Checksum } from "./checksum.js";
import { crc32Byte, crc32Combine } from "./crc32-combine.js";
import { wireError, type WireError } from "./replies.js";
import { either, object, oneOf, string, type Shape } from "./shape.js";
import { readHeadText, readOkEndText, readOkResultText } from "./tree-record-text.js";
import { MAX_RECORD_JSON, RECORD, RECORD_SHAPES } from "./tree-records.js";
import type { ChecksumAlg } from "./version.js";

/** What the decoder found, in stream order. `data` events are views into the pushed chunks. */
export type TreeEvent =
  | { readonly type: "folder"; readonly path: string }
  | { readonly type: "file"; readonly path: string; readonly size: number; readonly mtime: number }
  | { readonly type: "data"; readonly bytes: Buffer }
  | {
      readonly type: "end";
      readonly path: string;
      /** The file's own checksum, computed here, when the sender's matched it. */
      readonly checksum?: string;
      /** Why the file failed: the sender's error, or `BFTP_ERR_CHECKSUM_MISMATCH` found here. */
      readonly error?: WireError;
    }
  | {
      readonly type: "skip";
      readonly path: string;
      readonly kind: string;
      readonly error?: WireError;
    }
  | { readonly type: "kept"; readonly path: string }
  /** A PUTTREE result (§8.14), only in a results phase: the file committed, or `error`. */
  | { readonly type: "result"; readonly path: string; readonly error?: WireError }
  | {
      readonly type: "trailer";
      /** Undefined when the phase checksum matched; else the sender's error or a mismatch. */
      readonly error?: WireError;
    };

/** Options for {@link TreeDecoder}. */
export interface TreeDecoderOptions {
  /** Largest data frame accepted. */
  readonly maxChunk: number;
  /** Largest trailer accepted. */
  readonly maxTrailer: number;
  /** The per-file checksum the request named. */
  readonly alg: ChecksumAlg;
  /** The code for a stream that breaks the rules: `BFTP_ERR_PROTOCOL` (client), `BFTP_ERR_BAD_REQUEST` (server). */
  readonly errorCode: ErrorCode;
  /**
   * A PUTTREE results phase (§8.14): only `R` records are in its grammar, and no other
   * record is. Default false: a tree data phase (§7.4), where `R` is an unknown type.
   */
  readonly results?: boolean;
}

const trailerShape = either(
  object({
    ok: oneOf([true]),
    checksum: object({ alg: oneOf(["crc32"]), value: string(128) }),
  }),
  object({ ok: oneOf([false]), error: wireError }),
);

/** The file whose bytes are arriving. */
interface OpenFile {
  readonly path: string;
  readonly size: number;
  received: number;
  readonly sum: Checksum;
}

const enum State {
  Header,
  Type,
  Json,
  Data,
  TrailerHeader,
  Trailer,
  Done,
}

/**
 * The receiver's side of a tree data phase (PROTOCOL.md §8.13), as an explicit state machine
 * fed whatever bytes arrive: frame headers, record types, JSON bodies (each checked against
 * its length limit from the header, before a byte of it is buffered), file bytes (handed out
 * as views, never buffered), the terminator and the trailer. It checks the record grammar
 * (`(F | S | K | H D* E)*`), each file's size and checksum, and the phase checksum; a broken
 * rule throws `errorCode` (the stream can no longer be trusted), while a file that failed
 * (its `E` carries an error, or its checksum differs) is an `end` event with `error` and the
 * phase goes on.
 *
 * @example
 * const decoder = new TreeDecoder({ maxChunk, maxTrailer, alg: "crc32", errorCode: "BFTP_ERR_PROTOCOL" });
 * while (!decoder.done) for (const e of decoder.push(await reader.readSome(decoder.want()))) handle(e);
 */
export class TreeDecoder {
  readonly #options: TreeDecoderOptions;
  #state = State.Header;
  readonly #header = Buffer.alloc(HEX_SIZE_HEADER.width);
  #headerHave = 0;
  /** Bytes left in the current frame's payload (after the type byte, for records). */
  #left = 0;
  #recordType = 0;
  #parts: Buffer[] = [];
  #phaseCrc = 0;
  #file: OpenFile | undefined;
  /** Bytes pushed past the end of the trailer (they belong to whatever follows the phase). */
  rest: Buffer = Buffer.alloc(0);

  constructor(options: TreeDecoderOptions) {
    this.#options = options;
  }

  /** True once the trailer has been read. */
  get done(): boolean {
    return this.#state === State.Done;
  }

  /**
   * The most bytes that certainly belong to the phase: read no more than this at once. Inside
   * a record that is the rest of its frame and the next frame's header (a record is always
   * followed by one, if only the terminator), so a reader takes about one read per record.
   */
  want(): number {
    switch (this.#state) {
      case State.Header:
      case State.TrailerHeader:
        return HEX_SIZE_HEADER.width - this.#headerHave;
      case State.Type:
        return 1 + this.#left + HEX_SIZE_HEADER.width;
      case State.Json:
      case State.Data:
        return this.#left + HEX_SIZE_HEADER.width;
      case State.Done:
        return 0;
      default:
        return this.#left;
    }
  }

  /** Consumes `chunk`; returns the events it completed. Throws on a broken rule. */
  push(chunk: Buffer): TreeEvent[] {
    const events: TreeEvent[] = [];
    let at = 0;
    // Only the common case is written here: a whole frame header, and (nearly always) its
    // whole record, in this chunk; every other step is a call away. V8 optimizes a function
    // after some 67 KB of its own bytecode per "tick", 3 ticks plus one per 150 bytes of its
    // length: with every state inline this loop was not optimized before some 4,000 small
    // files (docs/performance.md, December 6).
    while (at < chunk.length) {
      const state = this.#state;
      if (
        (state === State.Header || state === State.TrailerHeader) &&
        this.#headerHave === 0 &&
        chunk.length - at >= HEX_SIZE_HEADER.width
      ) {
        const length = HEX_SIZE_HEADER.parse(chunk, at);
        at += HEX_SIZE_HEADER.width;
        this.#frameStarts(length);
        // A record whose every byte is here too (nearly always) is read at once, with
        // the same checks, instead of a turn of this loop for its type and another for
        // its body (issue 12: a third of the decoder's time on a tree of small files).
        if (this.#state === State.Type && length <= chunk.length - at) {
          this.#wholeRecord(chunk, at, length, events);
          at += length;
        }
      } else if (state === State.Done) break;
      else at = this.#step(chunk, at, events);
    }
    if (at < chunk.length) this.rest = chunk.subarray(at);
    return events;
  }

  /** One step of the state machine from `at` in `chunk`; returns where it stopped. */
  #step(chunk: Buffer, from: number, events: TreeEvent[]): number {
    let at = from;
    switch (this.#state) {
      case State.Header:
      case State.TrailerHeader: {
        const n = Math.min(HEX_SIZE_HEADER.width - this.#headerHave, chunk.length - at);
        chunk.copy(this.#header, this.#headerHave, at, at + n);
        this.#headerHave += n;
        at += n;
        if (this.#headerHave === HEX_SIZE_HEADER.width) {
          this.#headerHave = 0;
          this.#frameStarts(HEX_SIZE_HEADER.parse(this.#header, 0));
        }
        break;
      }
      case State.Type: {
        this.#recordStarts(chunk[at] as number);
        at++;
        break;
      }
      case State.Data: {
        const n = Math.min(this.#left, chunk.length - at);
        this.#fileBytes(chunk.subarray(at, at + n), events);
        at += n;
        this.#left -= n;
        if (this.#left === 0) this.#state = State.Header;
        break;
      }
      case State.Json:
      case State.Trailer: {
        const n = Math.min(this.#left, chunk.length - at);
        this.#parts.push(chunk.subarray(at, at + n));
        at += n;
        this.#left -= n;
        if (this.#left === 0) {
          const body =
            this.#parts.length === 1 ? (this.#parts[0] as Buffer) : Buffer.concat(this.#parts);
          this.#parts = [];
          if (this.#state === State.Json) this.#jsonEnds(body, events);
          else {
            this.#state = State.Done;
            events.push(this.#trailer(body));
          }
        }
        break;
      }
      default:
        break;
    }
    return at;
  }

  /**
   * The record of `length` bytes (its type, then its body) at `at`, all in `chunk`: what the
   * Type state and then the Data or Json state do with it, in one step.
   */
  #wholeRecord(chunk: Buffer, at: number, length: number, events: TreeEvent[]): void {
    this.#recordStarts(chunk[at] as number);
    this.#left = 0;
    const body = chunk.subarray(at + 1, at + length);
    if (this.#state === State.Data) {
      this.#fileBytes(body, events);
      this.#state = State.Header;
    } else this.#jsonEnds(body, events);
  }

  /** File bytes, read once: their CRC-32 joins the phase's and (with crc32) the file's. */
  #fileBytes(bytes: Buffer, events: TreeEvent[]): void {
    const file = this.#file as OpenFile;
    this.#phaseCrc = crc32Combine(this.#phaseCrc, updateWithCrc(file.sum, bytes), bytes.length);
    events.push({ type: "data", bytes });
  }

  /** A JSON record's whole body: into the phase's CRC-32, then read. */
  #jsonEnds(body: Buffer, events: TreeEvent[]): void {
    this.#phaseCrc = crc32(body, this.#phaseCrc);
    this.#state = State.Header;
    this.#recordEnds(body, events);
  }

  #frameStarts(length: number): void {
    if (this.#state === State.TrailerHeader) {
      if (length > this.#options.maxTrailer) throw this.#tooLarge(length, this.#options.maxTrailer);
      if (length === 0) throw this.#broken("the trailer is empty");
      this.#left = length;
      this.#state = State.Trailer;
      return;
    }
    if (length === 0) {
      if (this.#file !== undefined) throw this.#broken("the phase ended inside a file");
      this.#state = State.TrailerHeader;
      return;
    }
    if (length > this.#options.maxChunk) throw this.#tooLarge(length, this.#options.maxChunk);
    this.#left = length - 1;
    this.#state = State.Type;
  }

  /** A record's type byte: into the phase's CRC-32, then checked against the grammar. */
  #recordStarts(type: number): void {
    this.#phaseCrc = crc32Byte(type, this.#phaseCrc);
    if (type === RECORD.DATA) {
      if (this.#file === undefined) throw this.#broken("file bytes outside a file");
      if (this.#left === 0) throw this.#broken("an empty data record");
      if (this.#file.received + this.#left > this.#file.size) {
        throw this.#broken("more bytes than the file's size");
      }
      this.#file.received += this.#left;
      this.#state = State.Data;
      return;
    }
    if (this.#options.results === true) {
      if (type !== RECORD.RESULT) throw this.#broken(`record type ${type} in a results phase`);
    } else if (
      type !== RECORD.HEAD &&
      type !== RECORD.END &&
      type !== RECORD.FOLDER &&
      type !== RECORD.SKIP &&
      type !== RECORD.KEPT
    ) {
      throw this.#broken(`an unknown record type ${type}`);
    }
    if (this.#left > MAX_RECORD_JSON) throw this.#broken("a record over its size limit");
    if (this.#left === 0) throw this.#broken("an empty record");
    if ((type === RECORD.END) !== (this.#file !== undefined)) {
      throw this.#broken(
        type === RECORD.END ? "a file end outside a file" : "a record inside a file",
      );
    }
    this.#recordType = type;
    this.#state = State.Json;
  }

  #recordEnds(body: Buffer, events: TreeEvent[]): void {
    // H, E and R in the encoder's own spelling are read by hand; the same checks follow.
    const value = quickRecord(this.#recordType, body) ?? this.#json(body);
    if (this.#recordType === RECORD.HEAD) {
      const head = this.#shape(RECORD_SHAPES.head, value);
      this.#file = {
        path: head.path,
        size: head.size,
        received: 0,
        sum: createChecksum(this.#options.alg),
      };
      events.push({ type: "file", path: head.path, size: head.size, mtime: head.mtime });
    } else if (this.#recordType === RECORD.END) this.#fileEnds(value, events);
    else events.push(this.#otherRecord(value));
  }

  /** An `E` record: the file's size and checksum checked against what arrived. */
  #fileEnds(value: unknown, events: TreeEvent[]): void {
    const end = this.#shape(RECORD_SHAPES.end, value);
    const file = this.#file as OpenFile;
    this.#file = undefined;
    if (!end.ok) {
      events.push({ type: "end", path: file.path, error: end.error });
      return;
    }
    if (file.received !== file.size) throw this.#broken("a file ended before its size");
    const mine = file.sum.digest();
    events.push(
      mine === end.checksum.toLowerCase()
        ? { type: "end", path: file.path, checksum: mine }
        : { type: "end", path: file.path, error: mismatch(file.path) },
    );
  }

  /** `F`, `K`, `R` and `S`: the records that are not a file's own. */
  #otherRecord(value: unknown): TreeEvent {
    switch (this.#recordType) {
      case RECORD.FOLDER:
        return { type: "folder", path: this.#shape(RECORD_SHAPES.folder, value).path };
      case RECORD.KEPT:
        return { type: "kept", path: this.#shape(RECORD_SHAPES.kept, value).path };
      case RECORD.RESULT: {
        const result = this.#shape(RECORD_SHAPES.result, value);
        return result.ok
          ? { type: "result", path: result.path }
          : { type: "result", path: result.path, error: result.error };
      }
      default: {
        const skip = this.#shape(RECORD_SHAPES.skip, value);
        return {
          type: "skip",
          path: skip.path,
          kind: skip.type,
          ...(skip.error === undefined ? {} : { error: skip.error }),
        };
      }
    }
  }

  #trailer(body: Buffer): TreeEvent {
    const trailer = this.#shape(trailerShape, this.#json(body));
    if (!trailer.ok) return { type: "trailer", error: trailer.error };
    const mine = crc32Hex(this.#phaseCrc);
    if (trailer.checksum.value.toLowerCase() === mine) return { type: "trailer" };
    return {
      type: "trailer",
      error: {
        code: "BFTP_ERR_CHECKSUM_MISMATCH",
        status: 422,
        message: "The tree's records do not match their checksum",
      },
    };
  }

  #json(body: Buffer): unknown {
    try {
      return JSON.parse(decodeUtf8(body)) as unknown;
    } catch {
      throw this.#broken("a record that is not UTF-8 JSON");
    }
  }

  #shape<T>(shape: Shape<T>, value: unknown): T {
    if (!shape(value)) throw this.#broken("a record of the wrong shape");
    return value;
  }

  #broken(why: string): BftpError {
    return new BftpError(this.#options.errorCode, `Cannot read the tree: ${why}`, {
      connectionUsable: false,
    });
  }

  #tooLarge(length: number, max: number): BftpError {
    return new BftpError(
      "BFTP_ERR_FRAME_TOO_LARGE",
      `Cannot read a frame of ${length} bytes: the limit is ${max}`,
      {
        details: { length, max },
        connectionUsable: false,
      },
    );
  }
}

/** The hot records read by hand (tree-record-text.ts), or undefined: parse them as JSON. */
function quickRecord(type: number, body: Buffer): object | undefined {
  if (type === RECORD.HEAD) return readHeadText(body);
  if (type === RECORD.END) {
    const checksum = readOkEndText(body);
    return checksum === undefined ? undefined : { ok: true, checksum };
  }
  if (type === RECORD.RESULT) {
    const path = readOkResultText(body);
    return path === undefined ? undefined : { path, ok: true };
  }
  return undefined;
}

function mismatch(path: string): WireError {
  return {
    code: "BFTP_ERR_CHECKSUM_MISMATCH",
    status: 422,
    message: `Cannot use ${JSON.stringify(path)}: its checksum differs from the sender's`,
  };
}
