import fs from "node:fs/promises";
import path from "node:path";
import { BftpError } from "../../errors.js";
import type { RequestOf } from "../../protocol/requests.js";
import type { CommandContext } from "../command-context.js";
import { fsError } from "../fs-error.js";
import type { Anchor } from "../sandbox.js";

/**
 * RENAME (PROTOCOL.md §8.9). Both names are reached through their checked, open parent
 * directories (Sandbox.anchor), so a swap cannot move anything into or out of the root.
 * Without `overwrite`, a file is moved with link-then-unlink, which fails atomically if the
 * target exists; a directory is checked first (Node has no renameat2 RENAME_NOREPLACE, so two
 * clients racing to rename directories onto one new name can both pass the check; the loser's
 * rename then replaces only an empty directory, as rename(2) allows).
 */
export async function rename(ctx: CommandContext, req: RequestOf<"RENAME">): Promise<void> {
  const from = await ctx.anchor(req.from);
  let to: Anchor | undefined;
  try {
    to = await ctx.anchor(req.to);
    await move(from, to, req.overwrite === true);
  } finally {
    await from.close();
    await to?.close();
  }
  await ctx.reply({ path: to.virtual });
}

async function move(from: Anchor, to: Anchor, overwrite: boolean): Promise<void> {
  if (from.virtual === "/" || to.virtual === "/") {
    throw new BftpError("BFTP_ERR_PATH_REFUSED", "Cannot rename the root directory");
  }
  const fromReal = path.join(from.realDir, from.name);
  const toReal = path.join(to.realDir, to.name);
  // Real paths too: through a link inside the root, `to` can lie inside `from` on disk while
  // its virtual path does not (rename(2) would fail with EINVAL).
  if (to.virtual.startsWith(`${from.virtual}/`) || toReal.startsWith(`${fromReal}${path.sep}`)) {
    throw new BftpError(
      "BFTP_ERR_PATH_REFUSED",
      `Cannot move ${JSON.stringify(from.virtual)} into itself`,
    );
  }
  const stats = await fs.lstat(from.path).catch((err: unknown) => {
    throw fsError(err, "rename", from.virtual);
  });
  if (fromReal === toReal) return; // onto itself: nothing to do, as rename(2) does nothing
  try {
    if (overwrite) {
      await fs.rename(from.path, to.path);
    } else if (stats.isDirectory()) {
      const exists = await fs.lstat(to.path).then(
        () => true,
        () => false,
      );
      if (exists)
        throw new BftpError(
          "BFTP_ERR_EXISTS",
          `Cannot rename to ${JSON.stringify(to.virtual)}: it exists`,
        );
      await fs.rename(from.path, to.path);
    } else {
      await fs.link(from.path, to.path);
      await fs.unlink(from.path);
    }
  } catch (err) {
    throw fsError(err, "rename to", to.virtual);
  }
}
