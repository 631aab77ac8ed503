import { HEX_SIZE_HEADER } from "../wire/size-header.js";
import { wireError } from "./replies.js";
import {
  array,
  either,
  object,
  oneOf,
  optional,
  refine,
  strictObject,
  string,
  u64,
  type Infer,
} from "./shape.js";

/**
 * The record types of a tree data phase (PROTOCOL.md §8.13): every data frame of the phase
 * starts with one of these bytes. `D` carries file bytes; the others carry one JSON object.
 */
export const RECORD = {
  /** A folder, sent before anything inside it: `{"path"}`. */
  FOLDER: 0x46, // F
  /** A file begins: `{"path","size","mtime"}`; `D` frames then `E` follow. */
  HEAD: 0x48, // H
  /** Bytes of the current file. */
  DATA: 0x44, // D
  /** The current file ends: `{"ok":true,"checksum"}` or `{"ok":false,"error"}`. */
  END: 0x45, // E
  /** An entry not sent: a link, a special file, an unreadable folder: `{"path","type","error"?}`. */
  SKIP: 0x53, // S
  /** A file the receiver said it holds complete (the have list), not sent: `{"path"}`. */
  KEPT: 0x4b, // K
  /**
   * A file's outcome in a PUTTREE's results phase (§8.14), server to client only:
   * `{"path","ok":true}` once committed, `{"path","ok":false,"error"}` when it failed.
   */
  RESULT: 0x52, // R
} as const;

/** Largest JSON body of one record, in bytes (a control-frame-sized object, §8.13). */
export const MAX_RECORD_JSON = 8192;

/** Longest relative path in a record, in UTF-8 bytes (PROTOCOL.md §6's path limit). */
export const MAX_RECORD_PATH = 4096;

/**
 * Whether `rel` is a well-formed relative record path: `/`-separated names, none empty, `.`
 * or `..`, no leading `/`, no control character or backslash, at most 4096 bytes. A receiver
 * still checks each name against its own rules (the client: `localName`; the server: the
 * sandbox); this is the shape every record path must have.
 */
export function isRecordPath(rel: string): boolean {
  const n = rel.length;
  // UTF-8 takes 1 to 3 bytes per UTF-16 unit: count the bytes only when the units cannot tell.
  if (n === 0 || n > MAX_RECORD_PATH) return false;
  if (n * 3 > MAX_RECORD_PATH && Buffer.byteLength(rel) > MAX_RECORD_PATH) return false;
  // One pass over the units (a check per file of a tree, issue 12): no C0 or C1 control, no
  // backslash, no lone surrogate, and no name that is empty, "." or "..".
  let start = 0;
  for (let i = 0; i <= n; i++) {
    const c = i === n ? SLASH : rel.charCodeAt(i);
    if (c === SLASH) {
      const length = i - start;
      if (length === 0) return false;
      if (
        length <= 2 &&
        rel.charCodeAt(start) === DOT &&
        (length === 1 || rel.charCodeAt(start + 1) === DOT)
      )
        return false;
      start = i + 1;
    } else if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === BACKSLASH) return false;
    else if (c >= 0xd800 && c <= 0xdfff) {
      // A high surrogate followed by a low one is a character; any other surrogate is not.
      const next = i + 1 < n ? rel.charCodeAt(i + 1) : 0;
      if (c > 0xdbff || next < 0xdc00 || next > 0xdfff) return false;
      i++;
    }
  }
  return true;
}

const SLASH = 0x2f;
const DOT = 0x2e;
const BACKSLASH = 0x5c;

/** A have-list path (or a held-list path, §8.14), checked strictly: the receiver acts on it. */
export const recordPath = refine(string(MAX_RECORD_PATH), isRecordPath);
/**
 * A path in a record, as the decoder lets it through: a non-empty string. Whether its names
 * are safe is the receiver's call, name by name (the client skips an unsafe one with a
 * warning, PROTOCOL.md §8.13), so a hostile name costs that file, not the connection.
 */
const sentPath = string(MAX_RECORD_PATH, { min: 1 });
const SHA256_HEX = /^[0-9a-f]{64}$/u;

/** The JSON body of each record type, as a receiver checks it. */
export const RECORD_SHAPES = {
  folder: object({ path: sentPath }),
  head: object({ path: sentPath, size: u64, mtime: u64 }),
  end: either(
    object({ ok: oneOf([true]), checksum: string(128) }),
    object({ ok: oneOf([false]), error: wireError }),
  ),
  skip: object({ path: sentPath, type: string(16), error: optional(wireError) }),
  kept: object({ path: sentPath }),
  result: either(
    object({ path: sentPath, ok: oneOf([true]) }),
    object({ path: sentPath, ok: oneOf([false]), error: wireError }),
  ),
} as const;

/** One entry of a have list (PROTOCOL.md §8.13): a file the receiver already holds. */
export const haveEntry = strictObject({
  path: recordPath,
  size: u64,
  mtime: optional(u64),
  sha256: optional(string(64, { pattern: SHA256_HEX })),
});

/** A have-list frame: a JSON array of entries. */
export const haveFrame = array(haveEntry, 100_000);

/**
 * One entry of a GETTREE path list (PROTOCOL.md §8.13): a path as a request names it, and,
 * when the client holds a copy of that file, its `size` (and `mtime` or `sha256`) as in a
 * have-list entry. The path is checked by the sandbox, one by one, not here.
 */
export const listEntry = strictObject({
  path: string(MAX_RECORD_PATH),
  size: optional(u64),
  mtime: optional(u64),
  sha256: optional(string(64, { pattern: SHA256_HEX })),
});

/** A path-list frame: a JSON array of entries. */
export const listFrame = array(listEntry, 100_000);

/** A path-list entry. */
export type ListEntry = Infer<typeof listEntry>;

/** A have-list entry. */
export type HaveEntry = Infer<typeof haveEntry>;

/**
 * One record as a frame: the 8-hex-digit header, the type byte, then the body (JSON for all
 * types but `D`).
 *
 * @example
 * encodeRecord(RECORD.FOLDER, { path: "a" }).toString(); // '0000000dF{"path":"a"}'
 */
export function encodeRecord(type: number, body: object | Uint8Array): Buffer {
  const payload = body instanceof Uint8Array ? body : Buffer.from(JSON.stringify(body), "utf8");
  const frame = Buffer.allocUnsafe(HEX_SIZE_HEADER.width + 1 + payload.length);
  HEX_SIZE_HEADER.encode(1 + payload.length).copy(frame, 0);
  frame[HEX_SIZE_HEADER.width] = type;
  frame.set(payload, HEX_SIZE_HEADER.width + 1);
  return frame;
}
