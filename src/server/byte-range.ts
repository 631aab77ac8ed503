import { BftpError } from "../errors.js";

/** A validated byte range of a file. */
export interface ByteRange {
  readonly offset: number;
  readonly length: number;
}

/**
 * The range `[offset, offset + length)` of a file of `size` bytes, `length` defaulting to the
 * rest of the file; `BFTP_ERR_BAD_RANGE` when it does not lie inside (PROTOCOL.md §8.7).
 * `offset === size` is allowed: the empty end of a completed resume.
 */
export function byteRange(size: number, offset = 0, length?: number): ByteRange {
  const rest = size - offset;
  if (offset > size || (length !== undefined && length > rest)) {
    throw new BftpError(
      "BFTP_ERR_BAD_RANGE",
      `Cannot read ${length ?? "the rest"} bytes from offset ${offset}: the file has ${size}`,
      { details: { size, offset, length: length ?? null } },
    );
  }
  return { offset, length: length ?? rest };
}
