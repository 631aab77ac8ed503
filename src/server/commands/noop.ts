import type { CommandContext } from "../command-context.js";
import { defineCommand, needs } from "./command.js";

/** NOOP (PROTOCOL.md §8.3): a keep-alive; reading it already reset the idle deadline. */
export async function noop(ctx: CommandContext): Promise<void> {
  await ctx.reply({});
}

/** NOOP: its descriptor (commands/command.ts). */
export const NOOP = defineCommand({
  op: "NOOP",
  gate: "any",
  permissions: needs(),
  run: noop,
});
