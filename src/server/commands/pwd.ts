import type { CommandContext } from "../command-context.js";
import { defineCommand, needs } from "./command.js";

/** PWD (PROTOCOL.md §8.4). */
export async function pwd(ctx: CommandContext): Promise<void> {
  await ctx.reply({ path: ctx.cwd });
}

/** PWD: its descriptor (commands/command.ts). */
export const PWD = defineCommand({
  op: "PWD",
  gate: "session",
  permissions: needs("read"),
  run: pwd,
});
