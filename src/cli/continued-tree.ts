import fs from "node:fs/promises";
import path from "node:path";
import type { BftpClient } from "../client/client.js";
import { partialName } from "../client/partial-name.js";

/** Options of {@link isBegunCopy}. */
export interface BegunCopyOptions {
  /**
   * The target is a local folder a download wrote into: a `NAME.bftp-part` partial (or its
   * shortened form) of a source name counts as that name, so the partials a killed run left
   * do not hide its copy.
   */
  readonly partials?: boolean;
}

/**
 * Whether a folder holding `targetNames` at its top is the copy of a folder holding
 * `sourceNames` that an earlier `-r -c` run began (issue 13, item 1: a re-run never nests).
 * `cp -r` copies into `TARGET/NAME` when TARGET exists and makes TARGET the copy when it does
 * not, so after an interrupted first run the same command would nest a second copy inside
 * the first. A folder that holds something and only names the source has at its top (what
 * the first run made of it) is taken as that copy, to be continued in place; any other folder
 * receives the copy under the source's name as before. The one rule for both directions.
 *
 * @example
 * isBegunCopy(["a.txt", "b.bin.bftp-part"], ["a.txt", "b.bin", "c"], { partials: true }); // true
 * isBegunCopy([], ["a.txt"]); // false: an empty folder receives the copy inside it, as cp does
 */
export function isBegunCopy(
  targetNames: readonly string[],
  sourceNames: readonly string[],
  options: BegunCopyOptions = {},
): boolean {
  if (targetNames.length === 0) return false;
  const source = new Set(sourceNames);
  if (options.partials === true) for (const name of sourceNames) source.add(partialName(name));
  return targetNames.every((name) => source.has(name));
}

/**
 * Whether the existing remote folder `remoteDir` is the copy of `localDir` that an earlier
 * `bftp put -r -c` began ({@link isBegunCopy}). One LIST, bounded by the client's listing
 * limits.
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
  return isBegunCopy(
    remote.map((entry) => entry.name),
    await fs.readdir(localDir),
  );
}

/**
 * Whether the existing local folder `localDir` is the copy of `remoteDir` that an earlier
 * `bftp get -r -c` began ({@link isBegunCopy}), partials counted as their files. One LIST,
 * bounded by the client's listing limits, after the local folder is found to hold something.
 *
 * @example
 * const dest = (await continuesLocalCopy(client, "backup", "/photos")) ? "backup" : "backup/photos";
 */
export async function continuesLocalCopy(
  client: BftpClient,
  localDir: string,
  remoteDir: string,
): Promise<boolean> {
  const local = await fs.readdir(localDir);
  if (local.length === 0) return false;
  const remote = await client.list(remoteDir);
  return isBegunCopy(
    local,
    remote.map((entry) => entry.name),
    { partials: true },
  );
}

/**
 * Removes the `NAME.bftp-part` partials left beside `files`, local files a `get -r -c` re-run
 * found complete (issue 13, item 1: nothing of a killed run is left once the re-run is done).
 * A run killed between giving a verified file its name and removing its partial leaves both;
 * the re-run keeps the file and would keep the partial too. One listing per folder, not one
 * call per file; only regular files are removed.
 */
export async function removeLeftPartials(files: readonly string[]): Promise<void> {
  const byFolder = new Map<string, string[]>();
  for (const file of files) {
    const folder = path.dirname(file);
    const names = byFolder.get(folder) ?? [];
    if (names.length === 0) byFolder.set(folder, names);
    names.push(path.basename(file));
  }
  for (const [folder, names] of byFolder) {
    const entries = new Set(await fs.readdir(folder).catch(() => []));
    for (const name of names) {
      const part = path.join(folder, partialName(name));
      if (!entries.has(path.basename(part))) continue;
      if ((await fs.lstat(part).catch(() => undefined))?.isFile() === true) {
        await fs.rm(part, { force: true });
      }
    }
  }
}
