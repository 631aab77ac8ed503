import { createHash } from "node:crypto";
import type { FileHandle } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import type { RequestOf } from "../../protocol/requests.js";
import type { CommandContext } from "../command-context.js";
import { byteRange, type ByteRange } from "../byte-range.js";
import { fileChanged, sameVersion, settledStats, versionOf } from "../file-version.js";
import { fsError } from "../fs-error.js";
import { openFileInside } from "../open-file.js";
import { objectStore, hashStored } from "./stored.js";
import { defineCommand, needs } from "./command.js";

/** Reads of a range that keeps changing under HASH before it answers `BFTP_ERR_FILE_CHANGED`. */
const ATTEMPTS = 3;

/**
 * HASH (PROTOCOL.md §8.10): SHA-256 of a file or a range, the digits sha256sum prints, and
 * the version of the file it is the hash of (issue 11: a resuming client names that version
 * in its GET, so the bytes it kept and the bytes it fetches are of one version). A file
 * written to while it is hashed is hashed again, up to {@link ATTEMPTS} times.
 */
export async function hash(ctx: CommandContext, req: RequestOf<"HASH">): Promise<void> {
  const objects = objectStore(ctx);
  if (objects !== undefined) return hashStored(ctx, req, objects);
  const { handle, stats: opened, virtual } = await openFileInside(ctx, req.path);
  try {
    let stats = await settledStats(handle, virtual, opened);
    for (let attempt = 1; ; attempt++) {
      const range = byteRange(Number(stats.size), req.offset, req.length);
      const value = await sha256Of(handle, range, virtual);
      const after = await handle.stat({ bigint: true });
      if (sameVersion(stats, after)) {
        await ctx.reply({
          alg: "sha256",
          value,
          offset: range.offset,
          length: range.length,
          version: versionOf(stats),
        });
        return;
      }
      if (attempt === ATTEMPTS) throw fileChanged(virtual);
      stats = await settledStats(handle, virtual, after);
    }
  } finally {
    await handle.close();
  }
}

async function sha256Of(handle: FileHandle, range: ByteRange, virtual: string): Promise<string> {
  const digest = createHash("sha256");
  if (range.length > 0) {
    const stream = handle.createReadStream({
      start: range.offset,
      end: range.offset + range.length - 1,
      highWaterMark: 1024 * 1024,
      autoClose: false,
    });
    await pipeline(stream, digest).catch((err: unknown) => {
      throw fsError(err, "read", virtual);
    });
  }
  return digest.digest("hex");
}

/** HASH: its descriptor (commands/command.ts). */
export const HASH = defineCommand({
  op: "HASH",
  gate: "session",
  permissions: needs("read"),
  run: hash,
});
