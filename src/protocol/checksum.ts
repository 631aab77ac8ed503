import type { Hash } from "node:crypto";
import { nodeCrypto } from "../node-crypto.js";
import { crc32 } from "./crc32.js";
import { crc32Combine } from "./crc32-combine.js";
import type { ChecksumAlg } from "./version.js";

/** An incremental checksum over the bytes of a data phase (PROTOCOL.md §9). */
export interface Checksum {
  readonly alg: ChecksumAlg;
  /** Adds bytes, in order. */
  update(chunk: Uint8Array): void;
  /** The value in lowercase hex: 8 digits for crc32, 64 for sha256. */
  digest(): string;
  /**
   * CRC-32 only: adds `len` bytes whose own CRC-32 the caller already has (see
   * {@link updateWithCrc}), without reading them again.
   */
  readonly combine?: ((crc: number, len: number) => void) | undefined;
}

/** Each byte's two lowercase hex digits. */
const BYTE_HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/**
 * A CRC-32 value as §9 writes it: 8 lowercase hex digits. Spelled from a table of bytes: a
 * CRC at or above 2^31 is not a small integer to V8, and `toString(16)` on it took about
 * 0.6 µs against 0.1 (once per file of a tree, on both ends).
 */
export function crc32Hex(crc: number): string {
  return (
    (BYTE_HEX[crc >>> 24] as string) +
    (BYTE_HEX[(crc >>> 16) & 255] as string) +
    (BYTE_HEX[(crc >>> 8) & 255] as string) +
    (BYTE_HEX[crc & 255] as string)
  );
}

/**
 * Adds `bytes` to `sum` and returns their own CRC-32, for a tree phase's checksum: when `sum`
 * is CRC-32 too, the bytes are read once for both (issue 12).
 *
 * @example
 * out.pushFrame(frame, updateWithCrc(sum, body));
 */
export function updateWithCrc(sum: Checksum, bytes: Uint8Array): number {
  const crc = crc32(bytes);
  if (sum.combine === undefined) sum.update(bytes);
  else sum.combine(crc, bytes.length);
  return crc;
}

/**
 * An incremental checksum of the given algorithm.
 *
 * @example
 * const sum = createChecksum("crc32");
 * sum.update(Buffer.from("123456789"));
 * sum.digest(); // "cbf43926"
 */
export function createChecksum(alg: ChecksumAlg): Checksum {
  if (alg === "sha256") {
    const hash: Hash = nodeCrypto().createHash("sha256");
    return {
      alg,
      update: (chunk) => hash.update(chunk),
      digest: () => hash.digest("hex"),
    };
  }
  let crc = 0;
  return {
    alg,
    update: (chunk) => {
      crc = crc32(chunk, crc);
    },
    combine: (chunkCrc, len) => {
      crc = crc32Combine(crc, chunkCrc, len);
    },
    digest: () => crc32Hex(crc),
  };
}
