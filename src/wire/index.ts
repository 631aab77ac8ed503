/**
 * `wire`: framing over any Node byte stream. Knows nothing of files or of the BFTP protocol.
 * See docs/library.md for the map from the usual socket helpers to these names.
 */
export { armDeadline, type WaitOptions } from "./deadline.js";
export { decodeFrames, type DecodeFramesOptions, type DecodedFrames } from "./decode-frames.js";
export { decodeUtf8 } from "./decode-utf8.js";
export { encodeDelimited, type EncodeDelimitedOptions } from "./encode-delimited.js";
export { encodeFixedRecord, type EncodeFixedRecordOptions } from "./encode-fixed-record.js";
export { encodeFrame, type EncodeFrameOptions } from "./encode-frame.js";
export { DECIMAL_SIZE_HEADER, HEX_SIZE_HEADER, type SizeHeader } from "./size-header.js";
export { slabOnread, type SlabOnreadOptions } from "./slab-onread.js";
export {
  StreamReader,
  type ReadFrameOptions,
  type ReadToEndOptions,
  type ReadUntilOptions,
  type StreamReaderOptions,
  type StreamToOptions,
} from "./stream-reader.js";
export { writeAll, type WriteAllOptions } from "./write-all.js";
