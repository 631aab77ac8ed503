import type { RequestOf } from "../../protocol/requests.js";
import type { CommandContext } from "../command-context.js";
import { defineCommand, needs } from "./command.js";

/**
 * DELETE (PROTOCOL.md §8.9): files and links only; a link is removed, not its target. The
 * name is removed through its checked, open directory (DiskStorage.removeFile).
 */
export async function deleteFile(ctx: CommandContext, req: RequestOf<"DELETE">): Promise<void> {
  await ctx.storage.removeFile(ctx.cwd, req.path);
  await ctx.reply({});
}

/** DELETE: its descriptor (commands/command.ts). */
export const DELETE = defineCommand({
  op: "DELETE",
  gate: "session",
  permissions: needs("delete"),
  run: deleteFile,
});
