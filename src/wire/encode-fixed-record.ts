import { BftpError } from "../errors.js";

/** Options for {@link encodeFixedRecord}. */
export interface EncodeFixedRecordOptions {
  /** The byte that fills the record after the payload; 0x00 by default. */
  readonly pad?: number;
}

/**
 * A fixed-length record: the payload padded to exactly `size` bytes, the classic first
 * framing method (both sides agree on the length in advance). Read it back with
 * `reader.readFixedRecord(size)`. Throws `BFTP_ERR_MESSAGE_TOO_LONG` when the payload does
 * not fit.
 *
 * @example
 * encodeFixedRecord("GET", 8); // <Buffer 47 45 54 00 00 00 00 00>
 */
export function encodeFixedRecord(
  payload: Uint8Array | string,
  size: number,
  options: EncodeFixedRecordOptions = {},
): Buffer {
  const body = typeof payload === "string" ? Buffer.from(payload, "utf8") : payload;
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new BftpError("BFTP_ERR_INVALID_ARGUMENT", `Cannot use record size "${size}"`);
  }
  if (body.length > size) {
    throw new BftpError(
      "BFTP_ERR_MESSAGE_TOO_LONG",
      `Cannot fit ${body.length} bytes into a ${size}-byte record`,
      { details: { size: body.length, max: size } },
    );
  }
  const record = Buffer.alloc(size, options.pad ?? 0);
  record.set(body, 0);
  return record;
}
