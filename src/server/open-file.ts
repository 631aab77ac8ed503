import type { BigIntStats } from "node:fs";
import fs, { type FileHandle } from "node:fs/promises";
import { BftpError } from "../errors.js";
import type { CommandContext } from "./command-context.js";

/** A regular file opened for reading inside the root. */
export interface OpenedFile {
  readonly handle: FileHandle;
  /** Taken through the descriptor, with nanosecond times (file-version.ts compares them). */
  readonly stats: BigIntStats;
  readonly virtual: string;
}

/**
 * Opens a client path for reading: resolved through the sandbox, opened, checked again
 * through the descriptor (so a directory swapped for a link in between is caught), and
 * required to be a regular file. O_NONBLOCK: a FIFO planted in the root would otherwise block
 * a libuv thread in open(). The caller closes the handle.
 */
export async function openFileInside(ctx: CommandContext, input: string): Promise<OpenedFile> {
  const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = fs.constants;
  const { handle, virtual } = await ctx.openInside(input, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  try {
    const stats = await handle.stat({ bigint: true });
    if (stats.isDirectory()) {
      throw new BftpError(
        "BFTP_ERR_IS_A_DIRECTORY",
        `Cannot read ${JSON.stringify(virtual)}: it is a directory`,
      );
    }
    if (!stats.isFile()) {
      throw new BftpError(
        "BFTP_ERR_PERMISSION_DENIED",
        `Cannot read ${JSON.stringify(virtual)}: not a regular file`,
      );
    }
    return { handle, stats, virtual };
  } catch (err) {
    await handle.close();
    throw err;
  }
}
