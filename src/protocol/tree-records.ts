import * as z from "zod";
import { HEX_SIZE_HEADER } from "../wire/size-header.js";

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
export const recordPath = z.string().max(MAX_RECORD_PATH).refine(isRecordPath);
/**
 * A path in a record, as the decoder lets it through: a non-empty string. Whether its names
 * are safe is the receiver's call, name by name (the client skips an unsafe one with a
 * warning, PROTOCOL.md §8.13), so a hostile name costs that file, not the connection.
 */
const sentPath = z.string().min(1).max(MAX_RECORD_PATH);
const u64 = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const wireError = z.object({
  code: z.string().max(128),
  status: z.number().int(),
  message: z.string().max(4096),
});

/** The JSON body of each record type, as a receiver checks it. */
export const RECORD_SHAPES = {
  folder: z.looseObject({ path: sentPath }),
  head: z.looseObject({ path: sentPath, size: u64, mtime: u64 }),
  end: z.union([
    z.looseObject({ ok: z.literal(true), checksum: z.string().max(128) }),
    z.looseObject({ ok: z.literal(false), error: wireError }),
  ]),
  skip: z.looseObject({
    path: sentPath,
    type: z.string().max(16),
    error: wireError.optional(),
  }),
  kept: z.looseObject({ path: sentPath }),
  result: z.union([
    z.looseObject({ path: sentPath, ok: z.literal(true) }),
    z.looseObject({ path: sentPath, ok: z.literal(false), error: wireError }),
  ]),
} as const;

/** One entry of a have list (PROTOCOL.md §8.13): a file the receiver already holds. */
export const haveEntry = z.strictObject({
  path: recordPath,
  size: u64,
  mtime: u64.optional(),
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/u)
    .optional(),
});

/** A have-list frame: a JSON array of entries. */
export const haveFrame = z.array(haveEntry).max(100_000);

/**
 * One entry of a GETTREE path list (PROTOCOL.md §8.13): a path as a request names it, and,
 * when the client holds a copy of that file, its `size` (and `mtime` or `sha256`) as in a
 * have-list entry. The path is checked by the sandbox, one by one, not here.
 */
export const listEntry = z.strictObject({
  path: z.string().max(MAX_RECORD_PATH),
  size: u64.optional(),
  mtime: u64.optional(),
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/u)
    .optional(),
});

/** A path-list frame: a JSON array of entries. */
export const listFrame = z.array(listEntry).max(100_000);

/** A path-list entry. */
export type ListEntry = z.infer<typeof listEntry>;

/** A have-list entry. */
export type HaveEntry = z.infer<typeof haveEntry>;

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
