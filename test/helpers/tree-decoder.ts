import { TreeDecoder } from "../../src/protocol/tree-decoder.js";

/** A client's tree decoder (crc32 files, BFTP_ERR_PROTOCOL) for frames of at most `maxChunk`. */
export function clientTreeDecoder(maxChunk: number): TreeDecoder {
  return new TreeDecoder({
    maxChunk,
    maxTrailer: 8192,
    alg: "crc32",
    errorCode: "BFTP_ERR_PROTOCOL",
  });
}
