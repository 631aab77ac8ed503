import { COMMANDS } from "./index.js";
import type { CommandContext } from "../command-context.js";
import { defineCommand, needs } from "./command.js";

/** HELP (PROTOCOL.md §8.3): every command with its one-line summary. */
export async function help(ctx: CommandContext): Promise<void> {
  await ctx.reply({
    commands: Object.values(COMMANDS).map(({ op, summary }) => ({ op, summary })),
  });
}

/** HELP: its descriptor (commands/command.ts). */
export const HELP = defineCommand({
  op: "HELP",
  gate: "any",
  permissions: needs(),
  run: help,
});
