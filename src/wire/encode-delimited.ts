import { BftpError } from "../errors.js";

/**
 * One delimited message: the payload, then the delimiter (a newline by default). Throws
 * `BFTP_ERR_INVALID_ARGUMENT` when the payload contains the delimiter, since the receiver
 * would split it in two.
 *
 * @example
 * encodeDelimited("PWD").toString(); // "PWD\n"
 * encodeDelimited("a", { delimiter: "\r\n" }).toString(); // "a\r\n"
 */
export function encodeDelimited(
  payload: Uint8Array | string,
  options: EncodeDelimitedOptions = {},
): Buffer {
  const body = typeof payload === "string" ? Buffer.from(payload, "utf8") : Buffer.from(payload);
  const delimiter = toDelimiter(options.delimiter ?? "\n");
  if (body.indexOf(delimiter) !== -1) {
    throw new BftpError(
      "BFTP_ERR_INVALID_ARGUMENT",
      "Cannot encode a delimited message that contains its own delimiter",
    );
  }
  return Buffer.concat([body, delimiter]);
}

/** Options for {@link encodeDelimited}. */
export interface EncodeDelimitedOptions {
  /** The bytes that end a message; `"\n"` by default. */
  readonly delimiter?: Uint8Array | string;
}

/** A delimiter as bytes; refuses the empty delimiter, which would match everywhere. */
export function toDelimiter(delimiter: Uint8Array | string): Buffer {
  const bytes =
    typeof delimiter === "string" ? Buffer.from(delimiter, "utf8") : Buffer.from(delimiter);
  if (bytes.length === 0) {
    throw new BftpError("BFTP_ERR_INVALID_ARGUMENT", "Cannot use an empty delimiter");
  }
  return bytes;
}
