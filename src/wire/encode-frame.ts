import { HEX_SIZE_HEADER, type SizeHeader } from "./size-header.js";

/** Options for {@link encodeFrame}. */
export interface EncodeFrameOptions {
  /** The header format; the 8-hex-digit header by default. */
  readonly header?: SizeHeader;
}

/**
 * One size-header frame: the header stating the payload length, then the payload.
 * Strings are encoded as UTF-8, so the header counts bytes, not characters.
 * Throws `BFTP_ERR_FRAME_TOO_LARGE` when the header cannot state the length.
 *
 * For large payloads prefer writing `header.encode(n)` and the payload as two chunks with
 * {@link writeAll}: it avoids copying the payload.
 *
 * @example
 * encodeFrame("Hello Web Wide World").toString(); // "00000014Hello Web Wide World"
 * encodeFrame("hi", { header: DECIMAL_SIZE_HEADER }).toString(); // "00000002hi"
 */
export function encodeFrame(
  payload: Uint8Array | string,
  options: EncodeFrameOptions = {},
): Buffer {
  const header = options.header ?? HEX_SIZE_HEADER;
  const body = typeof payload === "string" ? Buffer.from(payload, "utf8") : payload;
  const frame = Buffer.allocUnsafe(header.width + body.length);
  header.encode(body.length).copy(frame, 0);
  frame.set(body, header.width);
  return frame;
}
