import { HEX_SIZE_HEADER, encodeFrame } from "../src/wire/index.js";

/** Payload bytes of each benchmark frame. */
export const FRAME_PAYLOAD = 100;

/** Bytes each benchmark frame occupies on the wire: the 8-digit header plus the payload. */
export const FRAME_BYTES = HEX_SIZE_HEADER.width + FRAME_PAYLOAD;

/**
 * The bytes one sender writes per `write` call: a deterministic filler block for a streamed
 * body, or as many whole pre-encoded frames as fit in `writeSize` (so no frame is split by
 * the sender; TCP still splits them anywhere on the way).
 */
export interface SendBlock {
  /** The block written repeatedly; the last write of a transfer is a prefix of it. */
  readonly bytes: Buffer;
  /** Whole frames in `bytes` (0 for a streamed body). */
  readonly framesPerBlock: number;
}

/**
 * A `writeSize`-byte block of filler (a repeating byte ramp, so it is not all zeros).
 *
 * @example
 * makeBodyBlock(1 << 20).bytes.length; // 1048576
 */
export function makeBodyBlock(writeSize: number): SendBlock {
  const bytes = Buffer.allocUnsafe(writeSize);
  for (let i = 0; i < writeSize; i++) bytes[i] = i & 0xff;
  return { bytes, framesPerBlock: 0 };
}

/**
 * As many 100-byte-payload hex-header frames as fit in `writeSize` bytes (at least one).
 * Frame `k` of the block carries `k & 0xff` in every payload byte, so a receiver can check
 * it is in step: global frame `g` carries `(g % framesPerBlock) & 0xff`.
 *
 * @example
 * const { bytes, framesPerBlock } = makeFrameBlock(1 << 20); // 9709 frames, 1048572 bytes
 */
export function makeFrameBlock(writeSize: number): SendBlock {
  const framesPerBlock = Math.max(1, Math.floor(writeSize / FRAME_BYTES));
  const bytes = Buffer.allocUnsafe(framesPerBlock * FRAME_BYTES);
  const payload = Buffer.alloc(FRAME_PAYLOAD);
  for (let k = 0; k < framesPerBlock; k++) {
    payload.fill(k & 0xff);
    encodeFrame(payload).copy(bytes, k * FRAME_BYTES);
  }
  return { bytes, framesPerBlock };
}

/** The payload byte frame number `g` carries in a transfer built from `framesPerBlock` blocks. */
export function expectedFrameByte(g: number, framesPerBlock: number): number {
  return (g % framesPerBlock) & 0xff;
}
