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

// C0, DEL, C1 controls, backslash, lone surrogates: as PROTOCOL.md §6 refuses in paths.
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\\\ud800-\udfff]/u;

/**
 * Whether `rel` is a well-formed relative record path: `/`-separated names, none empty, `.`
 * or `..`, no leading `/`, no control character or backslash, at most 4096 bytes. A receiver
 * still checks each name against its own rules (the client: `localName`; the server: the
 * sandbox); this is the shape every record path must have.
 */
export function isRecordPath(rel: string): boolean {
  if (rel === "" || FORBIDDEN.test(rel) || Buffer.byteLength(rel) > MAX_RECORD_PATH) return false;
  for (const name of rel.split("/")) {
    if (name === "" || name === "." || name === "..") return false;
  }
  return true;
}

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
