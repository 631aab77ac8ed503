import { BftpError } from "../errors.js";
import { HEX_SIZE_HEADER, type SizeHeader } from "./size-header.js";

/** Options for {@link decodeFrames}. */
export interface DecodeFramesOptions {
  /** Largest payload accepted; a larger header is refused before its payload is looked at. */
  readonly maxSize: number;
  /** The header format; the 8-hex-digit header by default. */
  readonly header?: SizeHeader;
}

/** What {@link decodeFrames} found: whole frames, and the bytes of the next, incomplete one. */
export interface DecodedFrames {
  /** Payloads of every complete frame, in order (views into the input, not copies). */
  readonly frames: Buffer[];
  /** The unconsumed tail; prepend it to the next bytes that arrive. */
  readonly rest: Buffer;
}

/**
 * The pure size-header frame parser: bytes in, whole payloads and the remainder out.
 * No sockets, no state, so it can be fuzzed and fed at every split point. Every input ends
 * as frames, a remainder that needs more bytes, or a thrown coded error
 * (`BFTP_ERR_BAD_FRAME_HEADER`, `BFTP_ERR_FRAME_TOO_LARGE`).
 *
 * @example
 * let pending = Buffer.alloc(0);
 * socket.on("data", (chunk) => {
 *   const { frames, rest } = decodeFrames(Buffer.concat([pending, chunk]), { maxSize: 65536 });
 *   pending = rest; // bounded: at most one header plus maxSize bytes
 *   frames.forEach(handle);
 * });
 */
export function decodeFrames(input: Buffer, options: DecodeFramesOptions): DecodedFrames {
  const header = options.header ?? HEX_SIZE_HEADER;
  const frames: Buffer[] = [];
  let offset = 0;
  while (input.length - offset >= header.width) {
    const size = header.parse(input, offset);
    if (size > options.maxSize) {
      throw new BftpError(
        "BFTP_ERR_FRAME_TOO_LARGE",
        `Cannot accept a frame of ${size} bytes: the limit is ${options.maxSize}`,
        { details: { size, max: options.maxSize } },
      );
    }
    const end = offset + header.width + size;
    if (end > input.length) break;
    frames.push(input.subarray(offset + header.width, end));
    offset = end;
  }
  return { frames, rest: input.subarray(offset) };
}
