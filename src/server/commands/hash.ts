import { createHash } from "node:crypto";
import { pipeline } from "node:stream/promises";
import type { RequestOf } from "../../protocol/requests.js";
import type { CommandContext } from "../command-context.js";
import { byteRange } from "../byte-range.js";
import { fsError } from "../fs-error.js";
import { openFileInside } from "../open-file.js";

/** HASH (PROTOCOL.md §8.10): SHA-256 of a file or a range, the digits sha256sum prints. */
export async function hash(ctx: CommandContext, req: RequestOf<"HASH">): Promise<void> {
  const { handle, stats, virtual } = await openFileInside(ctx, req.path);
  try {
    const range = byteRange(stats.size, req.offset, req.length);
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
    await ctx.reply({
      alg: "sha256",
      value: digest.digest("hex"),
      offset: range.offset,
      length: range.length,
    });
  } finally {
    await handle.close();
  }
}
