import path from "node:path";
import type { BftpClient } from "../client/client.js";
import { continuesCopy, continuesLocalCopy } from "./continued-tree.js";

/**
 * True when a recursive transfer's source ends with a slash: it names the folder's contents,
 * as in rsync (issue 13, item 1). `get -r URL/dir/ LOCAL` and `put -r dir/ URL/x` put the
 * folder's files straight into the target, created if missing, never under the folder's
 * name, so running the command again lands in the same place whether or not the target
 * existed. Without the slash, `cp -r`'s rule applies.
 *
 * @example
 * namesContents("photos/"); // true: its files go into the target
 * namesContents("photos"); // false: an existing target receives target/photos
 */
export function namesContents(source: string): boolean {
  return source.endsWith("/") || source.endsWith(path.sep);
}

/** What {@link remoteTreeTarget} and {@link localTreeTarget} need to know of the target. */
export interface TreeTargetOptions {
  /** The target exists, as a folder. */
  readonly exists: boolean;
  /** `-c`: a folder that is the copy an earlier run began is continued in place. */
  readonly resume: boolean;
}

/**
 * The remote folder that receives `put -r LOCAL REMOTE`: REMOTE itself when it does not
 * exist, when LOCAL ends with a slash (its contents), or with -c when REMOTE is the copy an
 * earlier run began (continued-tree.ts); else `REMOTE/NAME`, as `cp -r` does.
 *
 * @example
 * await remoteTreeTarget(client, "photos", "/backup", { exists: true, resume: false }); // "/backup/photos"
 * await remoteTreeTarget(client, "photos/", "/backup", { exists: true, resume: false }); // "/backup"
 */
export async function remoteTreeTarget(
  client: BftpClient,
  local: string,
  remote: string,
  options: TreeTargetOptions,
): Promise<string> {
  if (!options.exists || namesContents(local)) return remote;
  if (options.resume && (await continuesCopy(client, remote, local))) return remote;
  return path.posix.join(remote, path.basename(path.resolve(local)));
}

/** Options of {@link localTreeTarget}. */
export interface LocalTreeTargetOptions extends TreeTargetOptions {
  /** The local name of the remote folder; undefined for the server's root, which has none. */
  readonly name: string | undefined;
}

/**
 * The local folder that receives `get -r REMOTE LOCAL`: LOCAL itself when it does not
 * exist, when REMOTE is the root or ends with a slash (its contents), or with -c when LOCAL
 * is the copy an earlier run began, partials counted (continued-tree.ts); else
 * `LOCAL/NAME`, as `cp -r` does.
 *
 * @example
 * await localTreeTarget(client, "/photos/", "backup", { exists: true, resume: false, name: "photos" }); // "backup"
 */
export async function localTreeTarget(
  client: BftpClient,
  remote: string,
  local: string,
  options: LocalTreeTargetOptions,
): Promise<string> {
  if (!options.exists || options.name === undefined || namesContents(remote)) return local;
  if (options.resume && (await continuesLocalCopy(client, local, remote))) return local;
  return path.join(local, options.name);
}
