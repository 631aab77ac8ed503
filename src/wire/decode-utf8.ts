import { BftpError } from "../errors.js";

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Decodes a complete message as UTF-8, refusing invalid bytes with `BFTP_ERR_BAD_UTF8`
 * instead of replacing them. Decode whole messages only, after framing: a character may
 * be split across chunks, so never decode chunk by chunk.
 *
 * @example
 * decodeUtf8(await reader.readFrame({ maxSize: 4096 })); // "héllo"
 */
export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return decoder.decode(bytes);
  } catch (err) {
    throw new BftpError("BFTP_ERR_BAD_UTF8", `Cannot decode ${bytes.length} bytes as UTF-8`, {
      cause: err,
    });
  }
}
