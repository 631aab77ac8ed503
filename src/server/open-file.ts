import type { Stats } from "node:fs";
import fs, { type FileHandle } from "node:fs/promises";
import { BftpError } from "../errors.js";
import type { CommandContext } from "./command-context.js";
import { fsError } from "./fs-error.js";

/** A regular file opened for reading inside the root. */
export interface OpenedFile {
  readonly handle: FileHandle;
  readonly stats: Stats;
  readonly virtual: string;
}

/**
 * Opens a client path for reading: resolved through the sandbox, opened, then checked again
 * through the descriptor (so a directory swapped for a link in between is caught), and
 * required to be a regular file. The caller closes the handle.
 */
export async function openFileInside(ctx: CommandContext, input: string): Promise<OpenedFile> {
  const target = await ctx.resolve(input);
  let handle: FileHandle;
  try {
    // O_NONBLOCK: a FIFO planted in the root would otherwise block a libuv thread in open().
    const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = fs.constants;
    handle = await fs.open(target.real, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (err) {
    throw fsError(err, "open", target.virtual);
  }
  try {
    await ctx.sandbox.verifyOpened(handle.fd, target.virtual);
    const stats = await handle.stat();
    if (stats.isDirectory()) {
      throw new BftpError(
        "BFTP_ERR_IS_A_DIRECTORY",
        `Cannot read ${JSON.stringify(target.virtual)}: it is a directory`,
      );
    }
    if (!stats.isFile()) {
      throw new BftpError(
        "BFTP_ERR_PERMISSION_DENIED",
        `Cannot read ${JSON.stringify(target.virtual)}: not a regular file`,
      );
    }
    return { handle, stats, virtual: target.virtual };
  } catch (err) {
    await handle.close();
    throw err;
  }
}
