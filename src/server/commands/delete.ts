import fs from "node:fs/promises";
import { BftpError } from "../../errors.js";
import type { RequestOf } from "../../protocol/requests.js";
import type { CommandContext } from "../command-context.js";
import { fsError } from "../fs-error.js";

/**
 * DELETE (PROTOCOL.md §8.9): files and links only; a link is removed, not its target. The
 * name is removed through its checked, open directory (Sandbox.anchor).
 */
export async function deleteFile(ctx: CommandContext, req: RequestOf<"DELETE">): Promise<void> {
  const target = await ctx.anchor(req.path);
  try {
    if (target.virtual === "/") {
      throw new BftpError("BFTP_ERR_IS_A_DIRECTORY", 'Cannot delete "/": it is a directory');
    }
    const stats = await fs.lstat(target.path).catch((err: unknown) => {
      throw fsError(err, "delete", target.virtual);
    });
    if (stats.isDirectory()) {
      throw new BftpError(
        "BFTP_ERR_IS_A_DIRECTORY",
        `Cannot delete ${JSON.stringify(target.virtual)}: it is a directory (use RMDIR)`,
      );
    }
    await fs.unlink(target.path).catch((err: unknown) => {
      throw fsError(err, "delete", target.virtual);
    });
  } finally {
    await target.close();
  }
  await ctx.reply({});
}
