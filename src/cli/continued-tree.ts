import fs from "node:fs/promises";
import type { BftpClient } from "../client/client.js";

/**
 * Whether the existing remote folder `remoteDir` is the copy of `localDir` that an earlier
 * `bftp put -r -c` began (issue 13, item 1: a re-run never nests). `put -r LOCAL REMOTE`
 * copies into `REMOTE/NAME` when REMOTE exists and makes REMOTE the copy when it does not, so
 * after an interrupted first run the same command would nest a second copy inside the first.
 * With -c, a folder that holds something and only names LOCAL has at its top (what the first
 * run made of it) is taken as that copy and continued in place; any other folder receives
 * the copy under LOCAL's name as before. One LIST, bounded by the client's listing limits.
 *
 * @example
 * const dest = (await continuesCopy(client, "/backup", "photos")) ? "/backup" : "/backup/photos";
 */
export async function continuesCopy(
  client: BftpClient,
  remoteDir: string,
  localDir: string,
): Promise<boolean> {
  const remote = await client.list(remoteDir);
  if (remote.length === 0) return false;
  const local = new Set(await fs.readdir(localDir));
  return remote.every((entry) => local.has(entry.name));
}
