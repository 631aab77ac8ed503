import fs from "node:fs/promises";
import { BftpError } from "../../errors.js";
import type { RequestOf } from "../../protocol/requests.js";
import type { CommandContext } from "../command-context.js";
import { fsError } from "../fs-error.js";

/** RMDIR (PROTOCOL.md §8.9): empty directories only, never the root; through its checked parent. */
export async function rmdir(ctx: CommandContext, req: RequestOf<"RMDIR">): Promise<void> {
  const target = await ctx.anchor(req.path);
  try {
    if (target.virtual === "/")
      throw new BftpError("BFTP_ERR_PATH_REFUSED", "Cannot remove the root directory");
    const stats = await fs.lstat(target.path).catch((err: unknown) => {
      throw fsError(err, "remove directory", target.virtual);
    });
    if (!stats.isDirectory()) {
      throw new BftpError(
        "BFTP_ERR_NOT_A_DIRECTORY",
        `Cannot remove directory ${JSON.stringify(target.virtual)}: not a directory`,
      );
    }
    await fs.rmdir(target.path).catch((err: unknown) => {
      throw fsError(err, "remove directory", target.virtual);
    });
  } finally {
    await target.close();
  }
  await ctx.reply({});
}
