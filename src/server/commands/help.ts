import { SUMMARIES } from "../../protocol/requests.js";
import type { CommandContext } from "../command-context.js";

/** HELP (PROTOCOL.md §8.3): every command with its one-line summary. */
export async function help(ctx: CommandContext): Promise<void> {
  await ctx.reply({
    commands: Object.entries(SUMMARIES).map(([op, summary]) => ({ op, summary })),
  });
}
