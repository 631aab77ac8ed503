import { createHash } from "node:crypto";
import fs, { type FileHandle } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { BftpError } from "../../errors.js";
import type { RequestOf } from "../../protocol/requests.js";
import type { CommandContext } from "../command-context.js";
import { fsError } from "../fs-error.js";
import { resumableName } from "../temp-files.js";

/** RESUME (PROTOCOL.md §8.11, §10): the length and SHA-256 of the partial upload kept for a path. */
export async function resume(ctx: CommandContext, req: RequestOf<"RESUME">): Promise<void> {
  const target = await ctx.anchor(req.path);
  let handle: FileHandle | undefined;
  try {
    const partial = target.sibling(resumableName(ctx.user ?? "", target.virtual));
    try {
      handle = await fs.open(partial, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    } catch (err) {
      if ((err as { code?: unknown }).code === "ENOENT") {
        throw new BftpError(
          "BFTP_ERR_NOT_FOUND",
          `Cannot resume ${JSON.stringify(target.virtual)}: no partial upload is kept for it`,
        );
      }
      throw fsError(err, "resume", target.virtual);
    }
    const { size } = await handle.stat();
    const digest = createHash("sha256");
    await pipeline(
      handle.createReadStream({ autoClose: false, highWaterMark: 1024 * 1024 }),
      digest,
    );
    await ctx.reply({ offset: size, sha256: digest.digest("hex") });
  } finally {
    await handle?.close();
    await target.close();
  }
}
