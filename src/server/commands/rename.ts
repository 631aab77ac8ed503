import type { RequestOf } from "../../protocol/requests.js";
import type { CommandContext } from "../command-context.js";
import { defineCommand, needs } from "./command.js";

/**
 * RENAME (PROTOCOL.md §8.9). Both names are reached through their checked, open parent
 * directories, so a swap cannot move anything into or out of the root; without `overwrite`
 * an existing target is refused atomically for a file (DiskStorage.rename, `move`).
 */
export async function rename(ctx: CommandContext, req: RequestOf<"RENAME">): Promise<void> {
  const path = await ctx.storage.rename(ctx.cwd, req.from, req.to, {
    overwrite: req.overwrite === true,
  });
  await ctx.reply({ path });
}

/** RENAME: its descriptor (commands/command.ts). */
export const RENAME = defineCommand({
  op: "RENAME",
  gate: "session",
  permissions: needs("delete"),
  run: rename,
});
