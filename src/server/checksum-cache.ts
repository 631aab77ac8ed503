import type { BigIntStats } from "node:fs";
import type { ChecksumAlg } from "../protocol/version.js";

/** Options for {@link ChecksumCache}. */
export interface ChecksumCacheOptions {
  /** Most files remembered; the least recently used is forgotten first (default 4096). */
  readonly entries?: number;
  /**
   * A file whose modification or change time is this close to when its sending began is
   * not remembered (default 2000 ms): a write in the same clock tick as our stat would leave
   * the times unchanged, so the key could not tell the old content from the new (git's
   * "racily clean" rule).
   */
  readonly racyMs?: number;
  /** Smaller files are not remembered: their checksum costs less than a lookup is worth. */
  readonly minSize?: number;
}

/**
 * Whole-file checksums of files GET has sent, keyed by what identifies a file's content
 * without reading it: device, inode, size, modification and change times (issue 5: the
 * server's CRC-32 was a third of its CPU per GiB). A GET of a whole file with a remembered
 * checksum sends it in the trailer instead of computing one. Times are compared to the
 * nanosecond. GET stats the file again after its last read and ends with
 * `BFTP_ERR_FILE_CHANGED` if anything wrote to it meanwhile (issue 11), so a remembered
 * checksum never vouches for other bytes; the client's own check is a second line.
 *
 * @example
 * const cache = new ChecksumCache();
 * cache.remember(await handle.stat({ bigint: true }), "crc32", "cbf43926", startedAt);
 * cache.lookup(stats, "crc32"); // "cbf43926" while the file is unchanged
 */
export class ChecksumCache {
  readonly #entries = new Map<string, string>();
  readonly #max: number;
  readonly #racyMs: number;
  readonly #minSize: number;

  constructor(options: ChecksumCacheOptions = {}) {
    this.#max = options.entries ?? 4096;
    this.#racyMs = options.racyMs ?? 2000;
    this.#minSize = options.minSize ?? 1024 * 1024;
  }

  /** Files remembered now. */
  get size(): number {
    return this.#entries.size;
  }

  /** The remembered checksum of the file `stats` describes, if its content is unchanged. */
  lookup(stats: BigIntStats, alg: ChecksumAlg): string | undefined {
    const key = keyOf(stats, alg);
    const value = this.#entries.get(key);
    if (value !== undefined) {
      this.#entries.delete(key); // most recently used last
      this.#entries.set(key, value);
    }
    return value;
  }

  /**
   * Remembers the checksum of the whole file `stats` describes (taken before it was read,
   * and found unchanged after), unless the file is small or its times are too recent to
   * trust against `startedAt` (ms since the epoch, when reading began).
   */
  remember(stats: BigIntStats, alg: ChecksumAlg, value: string, startedAt: number): void {
    if (this.#max <= 0 || stats.size < this.#minSize) return;
    const newest = Number(stats.mtimeMs > stats.ctimeMs ? stats.mtimeMs : stats.ctimeMs);
    if (newest > startedAt - this.#racyMs) return;
    const key = keyOf(stats, alg);
    this.#entries.delete(key);
    this.#entries.set(key, value);
    if (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
  }
}

function keyOf(stats: BigIntStats, alg: ChecksumAlg): string {
  return `${alg}:${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeNs}:${stats.ctimeNs}`;
}
