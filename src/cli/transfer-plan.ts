import fs from "node:fs/promises";
import path from "node:path";
import type { BftpClient } from "../client/client.js";
import { localName } from "../client/safe-name.js";
import { localReason } from "../client/in-step.js";
import { BftpError } from "../errors.js";

/** How much a recursive transfer will move: for the total progress line. */
export interface TransferPlan {
  readonly files: number;
  readonly bytes: number;
}

/**
 * Counts the files and bytes `downloadTree` will fetch, by the same rules (unsafe names,
 * links and special files are not counted). It lists the tree a second time, so commands call
 * it only when a progress bar is drawn: the library announces no plan before it starts.
 */
export async function planRemoteTree(client: BftpClient, remoteDir: string): Promise<TransferPlan> {
  let files = 0;
  let bytes = 0;
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await client.list(dir)) {
      let name: string;
      try {
        name = localName(entry.name);
      } catch {
        continue;
      }
      if (entry.type === "dir") await walk(path.posix.join(dir, name));
      else if (entry.type === "file") {
        files++;
        bytes += entry.size;
      }
    }
  };
  await walk(remoteDir);
  return { files, bytes };
}

/** Counts the regular files and bytes `uploadTree` will send from `localDir`. */
export async function planLocalTree(localDir: string): Promise<TransferPlan> {
  let files = 0;
  let bytes = 0;
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
      const child = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(child);
      else if (entry.isFile()) {
        files++;
        bytes += (await fs.stat(child)).size;
      }
    }
  };
  await walk(localDir);
  return { files, bytes };
}

/**
 * What is at a local path: a folder, something else, or nothing. Only a path that does not
 * exist is nothing: one that cannot be looked at (a folder on the way without search
 * permission, a loop of links) is a `BFTP_ERR_LOCAL_FILE` that says why, never "no such file".
 */
export async function localKind(file: string): Promise<"dir" | "other" | "none"> {
  try {
    return (await fs.stat(file)).isDirectory() ? "dir" : "other";
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === "ENOENT" || code === "ENOTDIR") return "none";
    throw new BftpError(
      "BFTP_ERR_LOCAL_FILE",
      `Cannot use ${JSON.stringify(file)}: ${localReason(err)}`,
      {
        cause: err,
      },
    );
  }
}
