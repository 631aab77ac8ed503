import type { CommandContext } from "../command-context.js";

/** NOOP (PROTOCOL.md §8.3): a keep-alive; reading it already reset the idle deadline. */
export async function noop(ctx: CommandContext): Promise<void> {
  await ctx.reply({});
}
