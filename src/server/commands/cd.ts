import fs from "node:fs/promises";
import { BftpError } from "../../errors.js";
import type { RequestOf } from "../../protocol/requests.js";
import type { CommandContext } from "../command-context.js";
import { fsError } from "../fs-error.js";

/** CD (PROTOCOL.md §8.4): the new working directory must exist and be a directory. */
export async function cd(ctx: CommandContext, req: RequestOf<"CD">): Promise<void> {
  const target = await ctx.resolve(req.path);
  const stats = await fs.stat(target.real).catch((err: unknown) => {
    throw fsError(err, "change directory to", target.virtual);
  });
  if (!stats.isDirectory()) {
    throw new BftpError(
      "BFTP_ERR_NOT_A_DIRECTORY",
      `Cannot change directory to ${JSON.stringify(target.virtual)}: not a directory`,
    );
  }
  ctx.cwd = target.virtual;
  await ctx.reply({ path: ctx.cwd });
}
