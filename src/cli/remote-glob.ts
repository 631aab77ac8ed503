import path from "node:path";
import picomatch from "picomatch/posix.js";
import type { BftpClient } from "../client/client.js";
import type { Entry } from "../client/reply-shapes.js";
import { BftpError, isBftpError } from "../errors.js";

/**
 * Entries a glob may list, all folders together, before it gives up
 * (BFTP_ERR_TOO_MANY_ENTRIES): `**` walks a whole tree, and a walk needs a bound.
 */
export const GLOB_MAX_ENTRIES = 100_000;

/** One remote entry a glob matched. */
export interface GlobMatch {
  /** Its remote path. */
  readonly path: string;
  /** Its path below the glob's literal base folder (`a.txt`, `sub/b.txt`). */
  readonly relative: string;
  readonly entry: Entry;
}

/** Options for {@link expandRemoteGlob}. */
export interface GlobOptions {
  /** Default {@link GLOB_MAX_ENTRIES}. */
  readonly maxEntries?: number;
}

/**
 * picomatch as a shell globs names: `*`, `?`, `[...]` and `**` (any folders, including none),
 * a leading dot matched only by a pattern that starts with one, a backslash escaping the
 * next character. Braces, extglobs and `!` negation are off, so `{`, `(` and `!` are plain.
 * `[1]` is a class, as in shells: picomatch would otherwise also match a literal `[1]`.
 */
export const MATCH_OPTIONS = {
  dot: false,
  literalBrackets: false,
  nobrace: true,
  noextglob: true,
  nonegate: true,
  posix: true,
  strictSlashes: true,
} as const;

/**
 * True when a remote path holds a glob character (`*`, `?`, `[`) that no backslash escapes.
 * Remote names never contain a backslash (the server refuses them, PROTOCOL.md §6), so in a
 * remote path a backslash is always an escape.
 */
export function isRemoteGlob(remote: string): boolean {
  for (let i = 0; i < remote.length; i++) {
    const c = remote[i];
    if (c === "\\") i++;
    else if (c === "*" || c === "?" || c === "[") return true;
  }
  return false;
}

/** The path with its backslash escapes removed: `a\[1\].txt` names `a[1].txt`. */
export function unescapeGlob(remote: string): string {
  return remote.replace(/\\(.)/gsu, "$1");
}

/**
 * The remote entries a glob path matches (issue 13, item 3), sorted by path, found with
 * LIST: folder by folder for `*`, `?` and `[...]`, with a walk of the tree below the literal
 * part for `**`. A path that ends in `/` matches folders only. Throws BFTP_ERR_NO_MATCH when
 * nothing matches (as sftp does: no match is an error), and BFTP_ERR_TOO_MANY_ENTRIES past
 * `maxEntries` listed entries.
 *
 * @example
 * await expandRemoteGlob(client, "/logs/2024-*.txt"); // [{ path: "/logs/2024-01.txt", ... }]
 */
export async function expandRemoteGlob(
  client: BftpClient,
  pattern: string,
  options: GlobOptions = {},
): Promise<GlobMatch[]> {
  const walker = new GlobWalker(client, options.maxEntries ?? GLOB_MAX_ENTRIES);
  const segments = pattern.split("/");
  const dirsOnly = segments.length > 1 && segments.at(-1) === "";
  if (dirsOnly) segments.pop();
  const first = segments.findIndex(isRemoteGlob);
  const literal = first === -1 ? segments : segments.slice(0, first);
  const base = unescapeGlob(literal.join("/")) || "/";
  const rest = first === -1 ? [] : segments.slice(first);
  const found = rest.some((s) => s.includes("**"))
    ? await walker.walk(base, rest.join("/"))
    : await walker.bySegment(base, rest);
  const matches = found
    .filter((m) => !dirsOnly || m.entry.type === "dir")
    .sort((a, b) => (a.relative < b.relative ? -1 : a.relative > b.relative ? 1 : 0));
  if (matches.length === 0) {
    throw new BftpError(
      "BFTP_ERR_NO_MATCH",
      `Cannot find ${JSON.stringify(pattern)}: no match (a name with *, ? or [ in it is written with a backslash before them, or with --literal)`,
      { details: { pattern } },
    );
  }
  return matches;
}

/** The LIST calls of one glob, counted against its bound. */
class GlobWalker {
  readonly #client: BftpClient;
  readonly #max: number;
  #listed = 0;

  constructor(client: BftpClient, max: number) {
    this.#client = client;
    this.#max = max;
  }

  /** `*`, `?`, `[...]`: each pattern segment matched against one folder level. */
  async bySegment(base: string, segments: readonly string[]): Promise<GlobMatch[]> {
    let current: { path: string; relative: string; entry?: Entry }[] = [
      { path: base, relative: "" },
    ];
    for (const [i, segment] of segments.entries()) {
      const last = i === segments.length - 1;
      const next: typeof current = [];
      const isMatch = isRemoteGlob(segment) ? picomatch(segment, MATCH_OPTIONS) : undefined;
      for (const dir of current) {
        if (isMatch === undefined) {
          const name = unescapeGlob(segment);
          next.push({ path: path.posix.join(dir.path, name), relative: join(dir.relative, name) });
          continue;
        }
        for (const entry of await this.#list(dir.path)) {
          if (!isMatch(entry.name) || (!last && entry.type !== "dir")) continue;
          next.push({
            path: path.posix.join(dir.path, entry.name),
            relative: join(dir.relative, entry.name),
            entry,
          });
        }
      }
      current = next;
    }
    const matches: GlobMatch[] = [];
    for (const m of current) {
      // A literal last segment (`dir*/a.txt`) is looked up, not listed.
      const entry = m.entry ?? (await this.#stat(m.path));
      if (entry !== undefined) matches.push({ path: m.path, relative: m.relative, entry });
    }
    return matches;
  }

  /** `**`: every entry below `base` tested as a relative path. */
  async walk(base: string, pattern: string): Promise<GlobMatch[]> {
    const isMatch = picomatch(pattern, MATCH_OPTIONS);
    // Nothing below a hidden folder can match unless the pattern names a dot itself.
    const hidden = pattern.split("/").some((s) => s.startsWith("."));
    const matches: GlobMatch[] = [];
    const visit = async (dir: string, relative: string): Promise<void> => {
      for (const entry of await this.#list(dir)) {
        const child = join(relative, entry.name);
        const childPath = path.posix.join(dir, entry.name);
        if (isMatch(child)) matches.push({ path: childPath, relative: child, entry });
        if (entry.type === "dir" && (hidden || !entry.name.startsWith("."))) {
          await visit(childPath, child);
        }
      }
    };
    await visit(base, "");
    return matches;
  }

  /**
   * A folder's entries with a plain name (a name from the server with a separator, `.` or
   * `..` is never matched); a missing folder, or a file, has none.
   */
  async #list(dir: string): Promise<Entry[]> {
    let entries: Entry[];
    try {
      entries = await this.#client.list(dir, { maxEntries: this.#max - this.#listed });
    } catch (err) {
      if (isBftpError(err, "BFTP_ERR_MESSAGE_TOO_LONG")) throw this.#tooMany();
      if (isBftpError(err, "BFTP_ERR_NOT_FOUND") || isBftpError(err, "BFTP_ERR_NOT_A_DIRECTORY"))
        return [];
      throw err;
    }
    this.#listed += entries.length;
    if (this.#listed > this.#max) throw this.#tooMany();
    return entries.filter((e) => e.name !== "." && e.name !== ".." && !e.name.includes("/"));
  }

  async #stat(remote: string): Promise<Entry | undefined> {
    try {
      return await this.#client.stat(remote);
    } catch (err) {
      if (isBftpError(err, "BFTP_ERR_NOT_FOUND") || isBftpError(err, "BFTP_ERR_NOT_A_DIRECTORY"))
        return undefined;
      throw err;
    }
  }

  #tooMany(): BftpError {
    return new BftpError(
      "BFTP_ERR_TOO_MANY_ENTRIES",
      `Cannot expand the pattern: it lists more than ${this.#max} entries (name a smaller folder, or use get -r)`,
      { details: { max: this.#max } },
    );
  }
}

function join(relative: string, name: string): string {
  return relative === "" ? name : `${relative}/${name}`;
}
