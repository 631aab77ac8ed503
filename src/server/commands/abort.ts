import type { CommandContext } from "../command-context.js";

/** ABORT (PROTOCOL.md §7.2, §8.12): says whether it stopped the download before it. */
export async function abort(ctx: CommandContext): Promise<void> {
  const aborted = ctx.transferAborted;
  ctx.transferAborted = false;
  await ctx.reply({ aborted });
}
