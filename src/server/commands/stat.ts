import fs from "node:fs/promises";
import path from "node:path";
import type { RequestOf } from "../../protocol/requests.js";
import type { CommandContext } from "../command-context.js";
import { toEntry } from "../entry.js";
import { O_PATH } from "../sandbox.js";

/**
 * STAT (PROTOCOL.md §8.5): follows links that stay inside the root. The file is held by an
 * O_PATH descriptor checked to lie inside, and described through it: nothing is opened for
 * I/O (a FIFO or a device is only described), and no swap can redirect the answer.
 */
export async function stat(ctx: CommandContext, req: RequestOf<"STAT">): Promise<void> {
  const target = await ctx.openInside(req.path, O_PATH | fs.constants.O_NOFOLLOW);
  try {
    const stats = await target.handle.stat();
    await ctx.reply({ entry: toEntry(path.posix.basename(target.virtual), stats) });
  } finally {
    await target.handle.close();
  }
}
