import fs from "node:fs/promises";
import path from "node:path";
import type { RequestOf } from "../../protocol/requests.js";
import type { CommandContext } from "../command-context.js";
import { toEntry } from "../entry.js";
import { fsError } from "../fs-error.js";

/** STAT (PROTOCOL.md §8.5): follows links that stay inside the root. */
export async function stat(ctx: CommandContext, req: RequestOf<"STAT">): Promise<void> {
  const target = await ctx.resolve(req.path);
  const stats = await fs.stat(target.real).catch((err: unknown) => {
    throw fsError(err, "stat", target.virtual);
  });
  await ctx.reply({ entry: toEntry(path.posix.basename(target.virtual), stats) });
}
