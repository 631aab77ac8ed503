import fs from "node:fs/promises";
import { BftpError } from "../../errors.js";
import type { RequestOf } from "../../protocol/requests.js";
import type { CommandContext } from "../command-context.js";
import { fsError } from "../fs-error.js";

/**
 * RENAME (PROTOCOL.md §8.9). Both paths go through the sandbox. Without `overwrite`, a file is
 * moved with link-then-unlink, which fails atomically if the target exists; a directory is
 * checked first (Node has no renameat2 RENAME_NOREPLACE, so two clients racing to rename a
 * directory onto one new name can both pass the check; the loser's rename then replaces only
 * an empty directory, as rename(2) allows).
 */
export async function rename(ctx: CommandContext, req: RequestOf<"RENAME">): Promise<void> {
  const from = await ctx.resolve(req.from, { followLast: false });
  const to = await ctx.resolve(req.to, { followLast: false });
  if (from.virtual === "/" || to.virtual === "/") {
    throw new BftpError("BFTP_ERR_PATH_REFUSED", "Cannot rename the root directory");
  }
  if (to.virtual.startsWith(`${from.virtual}/`)) {
    throw new BftpError(
      "BFTP_ERR_PATH_REFUSED",
      `Cannot move ${JSON.stringify(from.virtual)} into itself`,
    );
  }
  const stats = await fs.lstat(from.real).catch((err: unknown) => {
    throw fsError(err, "rename", from.virtual);
  });
  try {
    if (req.overwrite === true) {
      await fs.rename(from.real, to.real);
    } else if (stats.isDirectory()) {
      const exists = await fs.lstat(to.real).then(
        () => true,
        () => false,
      );
      if (exists)
        throw new BftpError(
          "BFTP_ERR_EXISTS",
          `Cannot rename to ${JSON.stringify(to.virtual)}: it exists`,
        );
      await fs.rename(from.real, to.real);
    } else if (from.real !== to.real) {
      await fs.link(from.real, to.real);
      await fs.unlink(from.real);
    }
  } catch (err) {
    throw fsError(err, "rename to", to.virtual);
  }
  await ctx.reply({ path: to.virtual });
}
