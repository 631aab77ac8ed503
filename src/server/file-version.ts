import { createHash } from "node:crypto";
import type { BigIntStats } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { setTimeout as delay } from "node:timers/promises";
import { BftpError } from "../errors.js";

/**
 * How close to now a file's change time may be before its stamps cannot be trusted to move
 * on the next write. Linux stamps mtime and ctime from a coarse clock (one tick: 4 ms at
 * HZ=250, 10 ms at HZ=100), so a write in the same tick as our fstat leaves the stamps as we
 * saw them. Once the change time is a full window older than now, any later write stamps a
 * later tick (git's "racy clean" rule, PROTOCOL.md §9).
 */
export const RACY_MS = 20;

/** Longest a read waits for a file that keeps changing to settle before it gives up. */
export const SETTLE_DEADLINE_MS = 1000;

/**
 * The file's stamps once they can be trusted (issue 11, item 1): when its change time is
 * within {@link RACY_MS} of now (either side), waits until it is older and stats the
 * descriptor again; a file still being written when the deadline passes is
 * `BFTP_ERR_FILE_CHANGED`. Only the change time is looked at: a client can set mtime (PUT's
 * `mtime`, `touch -d`), but every write and every utimes stamps ctime with now.
 */
export async function settledStats(
  handle: FileHandle,
  virtual: string,
  stats?: BigIntStats,
): Promise<BigIntStats> {
  let current = stats ?? (await handle.stat({ bigint: true }));
  const deadline = Date.now() + SETTLE_DEADLINE_MS;
  for (let attempt = 0; attempt < 100; attempt++) {
    const stamp = Number(current.ctimeNs / 1_000_000n);
    const now = Date.now();
    // A stamp far in the future (a clock stepped back) is safe too: a write now stamps now.
    if (Math.abs(now - stamp) >= RACY_MS) return current;
    const wait = stamp + RACY_MS + 1 - now;
    if (now + wait > deadline) break;
    await delay(wait);
    current = await handle.stat({ bigint: true });
  }
  throw fileChanged(virtual);
}

/**
 * An opaque token naming one version of a file: a hash of its device, inode, size and
 * nanosecond modification and change times. Any write, truncation, append or replacement
 * (a new inode) gives another token; nothing about the file can be read from it.
 */
export function versionOf(stats: BigIntStats): string {
  return createHash("sha256")
    .update(`${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeNs}:${stats.ctimeNs}`)
    .digest("hex")
    .slice(0, 16);
}

/** The fields of a file's stats that {@link sameVersion} compares. */
export type FileStampsLike = Pick<
  BigIntStats,
  "dev" | "ino" | "size" | "mtimeNs" | "ctimeNs" | "nlink"
>;

/**
 * Whether two stats of one open file describe the same version: nothing wrote to it between.
 * Device, inode, size and mtime must be equal, and the change time too unless the link count
 * changed: a PUT that renames a new file over this one, or a DELETE, unlinks it, which moves
 * its change time but not its bytes (a GET that began before keeps sending the old file,
 * §8.7). A write stamps mtime as well, with a tick later than the settled one.
 */
export function sameVersion(a: FileStampsLike, b: FileStampsLike): boolean {
  return (
    a.dev === b.dev &&
    a.ino === b.ino &&
    a.size === b.size &&
    a.mtimeNs === b.mtimeNs &&
    (a.ctimeNs === b.ctimeNs || a.nlink !== b.nlink)
  );
}

/**
 * Stats the open descriptor again, after the last byte was read: `BFTP_ERR_FILE_CHANGED`
 * unless it is still the version `before` (taken settled, before the first read) describes.
 */
export async function assertUnchanged(
  handle: FileHandle,
  before: BigIntStats,
  virtual: string,
): Promise<void> {
  if (!sameVersion(before, await handle.stat({ bigint: true }))) throw fileChanged(virtual);
}

/** `BFTP_ERR_FILE_CHANGED` for a file read while it changed (not fatal: try again). */
export function fileChanged(virtual: string): BftpError {
  return new BftpError(
    "BFTP_ERR_FILE_CHANGED",
    `Cannot read ${JSON.stringify(virtual)}: the file changed while it was read`,
    { details: { path: virtual } },
  );
}
