import fs from "node:fs";
import path from "node:path";
import picomatch from "picomatch/posix.js";
import { BftpError } from "../../errors.js";
// The same rules as remote globs: `*`, `?`, `[...]`, `**`, no dotfiles unless asked.
import { GLOB_MAX_ENTRIES, isRemoteGlob, MATCH_OPTIONS, unescapeGlob } from "../remote-glob.js";

/**
 * The local paths a glob matches, sorted, for the shell's `put` and `mput` (the command line
 * leaves local globs to the user's shell, as scp does). A word without `*`, `?` or `[` is
 * itself (a backslash escapes, as in remote paths). The folders below the pattern's literal
 * part are read, at most {@link GLOB_MAX_ENTRIES} entries, links never followed into. No
 * match is BFTP_ERR_NO_MATCH, as for a remote glob.
 *
 * @example
 * expandLocalGlob("logs/*.txt"); // ["logs/a.txt", "logs/b.txt"]
 */
export function expandLocalGlob(pattern: string): string[] {
  if (!isRemoteGlob(pattern)) return [unescapeGlob(pattern)];
  const segments = pattern.split("/");
  const first = segments.findIndex(isRemoteGlob);
  const base = unescapeGlob(segments.slice(0, first).join("/"));
  const rest = segments.slice(first);
  const depth = rest.some((s) => s.includes("**")) ? Infinity : rest.length;
  const isMatch = picomatch(rest.join("/"), MATCH_OPTIONS);
  const matches: string[] = [];
  let listed = 0;
  const walk = (dir: string, relative: string, level: number): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir === "" ? "." : dir, { withFileTypes: true });
    } catch {
      return; // an unreadable folder matches nothing, as in a shell
    }
    for (const entry of entries) {
      if (++listed > GLOB_MAX_ENTRIES) {
        throw new BftpError(
          "BFTP_ERR_TOO_MANY_ENTRIES",
          `Cannot expand ${JSON.stringify(pattern)}: it reads more than ${GLOB_MAX_ENTRIES} entries`,
        );
      }
      const rel = relative === "" ? entry.name : `${relative}/${entry.name}`;
      if (isMatch(rel)) matches.push(base === "" ? rel : path.posix.join(base, rel));
      if (entry.isDirectory() && level + 1 < depth)
        walk(path.join(dir, entry.name), rel, level + 1);
    }
  };
  walk(base, "", 0);
  if (matches.length === 0) {
    throw new BftpError(
      "BFTP_ERR_NO_MATCH",
      `Cannot find ${JSON.stringify(pattern)}: no local file matches (a backslash before *, ? or [ makes it plain)`,
      { details: { pattern } },
    );
  }
  return matches.sort();
}
