import type { CommandContext } from "../command-context.js";
import { defineCommand, needs } from "./command.js";

/** QUIT (PROTOCOL.md §8.3): reply, then the session closes; later requests are not run. */
export async function quit(ctx: CommandContext): Promise<void> {
  ctx.quitting = true;
  await ctx.reply({});
}

/** QUIT: its descriptor (commands/command.ts). */
export const QUIT = defineCommand({
  op: "QUIT",
  gate: "any",
  permissions: needs(),
  run: quit,
});
