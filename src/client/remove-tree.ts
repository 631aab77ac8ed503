import path from "node:path";
import { BftpError, isBftpError } from "../errors.js";
import type { BftpClient } from "./client.js";

/** What {@link removeTree} removed. */
export interface RemovedTree {
  /** The folder (or file) removed, as the server names it. */
  readonly path: string;
  /** Files, links and other entries removed (DELETE). */
  readonly files: number;
  /** Folders removed (RMDIR), the top one included. */
  readonly folders: number;
}

/** Deletes in flight at once within one folder. */
const WINDOW = 64;

/**
 * Removes a remote folder and everything below it, as `rm -r` does (issue 13, item 7): each
 * folder is listed, its files, links and other entries deleted (pipelined), its folders
 * removed the same way, then the folder itself. A link is deleted, never followed. A file
 * given instead of a folder is deleted. The server's root, and the client's current folder
 * at the root, are refused (`BFTP_ERR_INVALID_ARGUMENT`): nothing is removed. The first
 * failure ends the walk and is thrown with how much was removed before it
 * (`details.removed`); what was removed stays removed.
 *
 * @example
 * const { files, folders } = await removeTree(client, "/old-backups");
 */
export async function removeTree(client: BftpClient, remote: string): Promise<RemovedTree> {
  const absolute = path.posix.resolve(await client.pwd(), remote);
  if (absolute === "/") {
    throw new BftpError(
      "BFTP_ERR_INVALID_ARGUMENT",
      `Cannot remove ${JSON.stringify(remote)} recursively: it is the server's root folder`,
    );
  }
  const counts = { files: 0, folders: 0 };
  const top = await client.stat(absolute);
  try {
    if (top.type === "dir") await removeFolder(client, absolute, counts);
    else {
      await client.delete(absolute);
      counts.files++;
    }
  } catch (err) {
    if (!isBftpError(err)) throw err;
    const removed = counts.files + counts.folders;
    throw new BftpError(err.code, `${err.message} (removed ${removed} entries before it)`, {
      cause: err.cause ?? err,
      details: { ...err.details, removed },
      ...(err.connectionUsable === undefined ? {} : { connectionUsable: err.connectionUsable }),
    });
  }
  return { path: absolute, ...counts };
}

async function removeFolder(
  client: BftpClient,
  folder: string,
  counts: { files: number; folders: number },
): Promise<void> {
  const entries = await client.list(folder);
  const others = entries.filter((e) => e.type !== "dir");
  for (let at = 0; at < others.length; at += WINDOW) {
    const batch = others.slice(at, at + WINDOW);
    const outcomes = await Promise.allSettled(
      batch.map((e) => client.delete(path.posix.join(folder, e.name))),
    );
    for (const outcome of outcomes) {
      if (outcome.status === "fulfilled") counts.files++;
    }
    const failure = outcomes.find((o) => o.status === "rejected");
    if (failure !== undefined) throw failure.reason;
  }
  for (const entry of entries) {
    if (entry.type === "dir")
      await removeFolder(client, path.posix.join(folder, entry.name), counts);
  }
  await client.rmdir(folder);
  counts.folders++;
}
