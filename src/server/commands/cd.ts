import fs from "node:fs/promises";
import { BftpError } from "../../errors.js";
import type { RequestOf } from "../../protocol/requests.js";
import type { CommandContext } from "../command-context.js";
import { O_PATH } from "../sandbox.js";
import { objectStore, cdStored } from "./stored.js";
import { defineCommand, needs } from "./command.js";

/** CD (PROTOCOL.md §8.4): the new working directory must exist and be a directory. */
export async function cd(ctx: CommandContext, req: RequestOf<"CD">): Promise<void> {
  const objects = objectStore(ctx);
  if (objects !== undefined) return cdStored(ctx, req, objects);
  const target = await ctx.openInside(req.path, O_PATH | fs.constants.O_NOFOLLOW);
  try {
    if (!(await target.handle.stat()).isDirectory()) {
      throw new BftpError(
        "BFTP_ERR_NOT_A_DIRECTORY",
        `Cannot change directory to ${JSON.stringify(target.virtual)}: not a directory`,
      );
    }
  } finally {
    await target.handle.close();
  }
  ctx.cwd = target.virtual;
  await ctx.reply({ path: ctx.cwd });
}

/** CD: its descriptor (commands/command.ts). */
export const CD = defineCommand({
  op: "CD",
  gate: "session",
  permissions: needs("read"),
  run: cd,
});
