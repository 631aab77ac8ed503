import type { RequestOf } from "../../protocol/requests.js";
import type { CommandContext } from "../command-context.js";
import { defineCommand, needs } from "./command.js";

/** RMDIR (PROTOCOL.md §8.9): empty directories only, never the root; through its checked parent. */
export async function rmdir(ctx: CommandContext, req: RequestOf<"RMDIR">): Promise<void> {
  await ctx.storage.removeFolder(ctx.cwd, req.path);
  await ctx.reply({});
}

/** RMDIR: its descriptor (commands/command.ts). */
export const RMDIR = defineCommand({
  op: "RMDIR",
  gate: "session",
  permissions: needs("delete"),
  run: rmdir,
});
