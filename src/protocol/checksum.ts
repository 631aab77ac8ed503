import { createHash, type Hash } from "node:crypto";
import zlib from "node:zlib";
import type { ChecksumAlg } from "./version.js";

/** An incremental checksum over the bytes of a data phase (PROTOCOL.md §9). */
export interface Checksum {
  readonly alg: ChecksumAlg;
  /** Adds bytes, in order. */
  update(chunk: Uint8Array): void;
  /** The value in lowercase hex: 8 digits for crc32, 64 for sha256. */
  digest(): string;
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
    const hash: Hash = createHash("sha256");
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
      crc = zlib.crc32(chunk, crc);
    },
    digest: () => crc.toString(16).padStart(8, "0"),
  };
}
