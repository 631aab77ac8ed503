import fs from "node:fs/promises";
import type { RequestOf } from "../../protocol/requests.js";
import type { CommandContext } from "../command-context.js";
import { fsError } from "../fs-error.js";

/**
 * MKDIR (PROTOCOL.md §8.9): with `parents`, like `mkdir -p` (existing directories are fine;
 * an existing file on the way is refused).
 */
export async function mkdir(ctx: CommandContext, req: RequestOf<"MKDIR">): Promise<void> {
  const target = await ctx.resolve(req.path, { followLast: false });
  try {
    await fs.mkdir(target.real, { recursive: req.parents ?? false, mode: 0o755 });
  } catch (err) {
    throw fsError(err, "create directory", target.virtual);
  }
  await ctx.reply({ path: target.virtual });
}
