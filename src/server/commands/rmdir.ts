import type { RequestOf } from "../../protocol/requests.js";
import type { CommandContext } from "../command-context.js";

/** RMDIR (PROTOCOL.md §8.9): empty directories only, never the root; through its checked parent. */
export async function rmdir(ctx: CommandContext, req: RequestOf<"RMDIR">): Promise<void> {
  await ctx.storage.removeFolder(ctx.cwd, req.path);
  await ctx.reply({});
}
