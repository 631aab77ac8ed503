import type { CommandContext } from "../command-context.js";

/** PWD (PROTOCOL.md §8.4). */
export async function pwd(ctx: CommandContext): Promise<void> {
  await ctx.reply({ path: ctx.cwd });
}
