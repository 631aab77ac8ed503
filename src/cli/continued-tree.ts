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
 * `bftp put -r -c` began ({@link isBegunCopy}). One LIST, streamed: of the remote names only
 * those of the source and the first other one are kept, so a remote folder of any size is
 * judged in memory bounded by the local folder's.
 *
 * @example
 * const dest = (await continuesCopy(client, "/backup", "photos")) ? "/backup" : "/backup/photos";
 */
export async function continuesCopy(
  client: BftpClient,
  remoteDir: string,
  localDir: string,
): Promise<boolean> {
  const local = await fs.readdir(localDir);
  const known = new Set(local);
  const remote = new Set<string>();
  let foreign: string | undefined;
  await client.list(remoteDir, {
    onEntries: (entries) => {
      for (const { name } of entries) {
        if (known.has(name)) remote.add(name);
        else foreign ??= name;
      }
    },
  });
  if (foreign !== undefined) remote.add(foreign);
  return isBegunCopy([...remote], local);
}

/**
 * Whether the existing local folder `localDir` is the copy of `remoteDir` that an earlier
 * `bftp get -r -c` began ({@link isBegunCopy}), partials counted as their files. One LIST,
 * streamed, once the local folder is found to hold something: of the remote names only those
 * found locally (or as a partial) are kept, so memory is bounded by the local folder's size.
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
  const held = new Set(local);
  const remote = new Set<string>();
  await client.list(remoteDir, {
    onEntries: (entries) => {
      for (const { name } of entries) {
        if (held.has(name) || held.has(partialName(name))) remote.add(name);
      }
    },
  });
  return isBegunCopy(local, [...remote], { partials: true });
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
