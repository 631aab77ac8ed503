import type { RequestOf } from "../../protocol/requests.js";
import type { CommandContext } from "../command-context.js";
import { defineCommand, needs } from "./command.js";

/**
 * MKDIR (PROTOCOL.md §8.9). Without `parents`, the name is created through its checked, open
 * parent. With `parents`, like `mkdir -p`, one component at a time, each opened and checked
 * before the next is made inside it (Sandbox.makeDirectories): existing directories, and links
 * to directories inside the root, are fine; a link leading outside is refused, and an existing
 * file in the way is `BFTP_ERR_EXISTS` when it is the last name.
 */
export async function mkdir(ctx: CommandContext, req: RequestOf<"MKDIR">): Promise<void> {
  const path = await ctx.storage.makeFolder(ctx.cwd, req.path, { parents: req.parents === true });
  await ctx.reply({ path });
}

/** MKDIR: its descriptor (commands/command.ts). */
export const MKDIR = defineCommand({
  op: "MKDIR",
  gate: "session",
  permissions: needs("mkdir"),
  run: mkdir,
});
