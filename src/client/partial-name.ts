import { nodeCrypto } from "../node-crypto.js";
import path from "node:path";

/** Suffix of a download in progress; what `resume` continues. */
export const PARTIAL_SUFFIX = ".bftp-part";

/** The longest file name, in bytes, that Linux, macOS and Windows file systems accept. */
const MAX_NAME_BYTES = 255;

/**
 * The name of the partial download of a file named `name`: `NAME.bftp-part` when that fits
 * in 255 bytes, else the longest prefix of `name` cut at a character boundary that leaves
 * room for `~`, 16 hex digits of the SHA-256 of the whole name, and the suffix (issue 11,
 * item 5: a 246- to 255-byte name could be uploaded but not downloaded). Deterministic, so
 * `resume` finds it again; the hash keeps names that share a long prefix apart.
 *
 * @example
 * partialName("report.pdf"); // "report.pdf.bftp-part"
 * partialName("x".repeat(255)); // "xxx…x~1b2c…9f.bftp-part" (255 bytes)
 */
export function partialName(name: string): string {
  const plain = `${name}${PARTIAL_SUFFIX}`;
  // UTF-8 takes at most 3 bytes per UTF-16 unit: a short name needs no count.
  if (plain.length * 3 <= MAX_NAME_BYTES || Buffer.byteLength(plain) <= MAX_NAME_BYTES)
    return plain;
  const tag = `~${nodeCrypto().createHash("sha256").update(name).digest("hex").slice(0, 16)}${PARTIAL_SUFFIX}`;
  const budget = MAX_NAME_BYTES - Buffer.byteLength(tag);
  let prefix = "";
  let bytes = 0;
  for (const char of name) {
    const size = Buffer.byteLength(char);
    if (bytes + size > budget) break;
    prefix += char;
    bytes += size;
  }
  return `${prefix}${tag}`;
}

/** Where the partial download of the local file `file` lives: beside it, {@link partialName}. */
export function partialPath(file: string): string {
  return path.join(path.dirname(file), partialName(path.basename(file)));
}
