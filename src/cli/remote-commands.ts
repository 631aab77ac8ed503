import type { Command } from "commander";
import type { Entry } from "../client/reply-shapes.js";
import { escapeControls } from "../client/safe-name.js";
import type { BftpClient } from "../client/client.js";
import { removeTree, type RemovedTree } from "../client/remove-tree.js";
import { BftpError, isBftpError } from "../errors.js";
import { formatBytes, withHint, type CommonFlags } from "./common.js";
import { formatDate, formatEntries, type ListingStyle } from "./entry-format.js";
import { ListingOutput } from "./listing-output.js";
import { expandRemoteGlob, isRemoteGlob, unescapeGlob, type GlobMatch } from "./remote-glob.js";
import { remoteCommand, type RemoteCommandSpec, type RemoteOutcome } from "./remote-command.js";

/** Flags of `bftp mkdir`. */
export interface MkdirFlags extends CommonFlags {
  readonly parents?: boolean;
}

/** Flags of `bftp ls` and `bftp rm`. */
export interface GlobFlags extends CommonFlags {
  /** Remote paths as written: no globs, no backslash escapes. */
  readonly literal?: boolean;
}

/** Flags of `bftp ls` and the shell's `ls`. */
export interface LsFlags extends GlobFlags {
  /** `-a`: names that begin with "." too (hidden without it, as ls hides them). */
  readonly all?: boolean;
  /** `-h`: sizes as 4.0K, 1.2M (long lines only). */
  readonly humanReadable?: boolean;
  /** False for the shell's `ls` without `-l`: names only. The command line is always long. */
  readonly long?: boolean;
}

/** Flags of `bftp rm`. */
export interface RmFlags extends GlobFlags {
  /** Folders too, with everything below them. */
  readonly recursive?: boolean;
}

/** `--literal`, for the commands that expand remote globs. */
const LITERAL_OPTION = {
  flags: "--literal",
  description: "take the path as written: *, ? and [ are plain, \\ escapes nothing",
} as const;

/** What a path that may hold a glob stands for: the matches, or the one path, unescaped. */
async function globbed(
  client: BftpClient,
  path: string,
  flags: GlobFlags,
): Promise<{ readonly matches?: GlobMatch[]; readonly path: string }> {
  if (flags.literal === true) return { path };
  if (isRemoteGlob(path)) return { matches: await expandRemoteGlob(client, path), path };
  return { path: unescapeGlob(path) };
}

/** `bftp ls REMOTE`: list a remote folder like `ls -l`, sorted by name. */
const ls: RemoteCommandSpec<LsFlags> = {
  name: "ls",
  description: "List a remote folder (or describe one file), like ls -l",
  argument: "the folder: bftp://[user@]host[:port]/path",
  about: `Each line is TYPE SIZE DATE NAME: type "-" file, "d" folder, "l" link, "?" other; size in
bytes; date of last change in local time. Names are sorted; control characters in them are
shown escaped (\\n, \\x1b), so a hostile name cannot redraw the terminal. A folder of more than
10,000 entries is printed as its entries arrive, unsorted, so any size lists in bounded memory.`,
  options: [
    {
      flags: "-a, --all",
      description: 'also names that begin with "." (hidden otherwise, as ls does)',
    },
    { flags: "--human-readable", description: "sizes as 4.0K, 1.2M, as ls -h (-h is help here)" },
    { flags: "-l", description: "long lines (always: accepted for ls habits)" },
    LITERAL_OPTION,
  ],
  examples: [
    "bftp ls bftp://files.local/",
    "bftp ls -a --human-readable bftp://files.local/   dotfiles too, sizes for people",
    `bftp ls 'bftp://files.local/logs/*.txt'    what a glob matches (quoted: bftp expands it, not the shell)`,
    `bftp ls 'bftp://files.local/src/**/*.ts'   ** is any depth of folders`,
    "bftp ls bftp://files.local:9000/photos/2024",
    "bftp ls home:photos                        a named remote (see below)",
    `bftp ls --json bftp://127.0.0.1:9000/ | jq '.entries[] | select(.type == "file") | .name'`,
  ],
  run: async (client, pattern, flags) => {
    const style = listingStyle(flags);
    const shown = (entries: readonly Entry[]): Entry[] =>
      flags.all === true ? [...entries] : entries.filter((e) => !e.name.startsWith("."));
    const { matches, path } = await globbed(client, pattern, flags);
    if (matches !== undefined) {
      // A glob lists what it matched, as `ls *.txt` does: each entry by its path below the
      // pattern's folder (the walk is bounded, so the matches are too).
      const entries = matches.map((m) => ({ ...m.entry, name: m.relative }));
      return { json: { path, entries }, line: formatEntries(entries, style).join("\n") };
    }
    // Entries are handed over batch by batch as they arrive; a folder too large to sort is
    // printed as it comes (issue 11, item 7), so no listing is ever collected whole.
    const output = new ListingOutput(flags, path, style);
    try {
      await client.list(path, {
        onEntries: (batch) => {
          output.add(shown(batch));
        },
      });
    } catch (err) {
      output.interrupt();
      // `ls FILE` describes the file, as ls does.
      if (output.count > 0 || !isBftpError(err, "BFTP_ERR_NOT_A_DIRECTORY")) throw err;
      output.add([await client.stat(path)]);
    }
    if (output.finish()) return { json: {}, line: undefined, printed: true };
    const entries = output.sorted();
    return {
      json: { path, entries },
      line: entries.length > 0 ? formatEntries(entries, style).join("\n") : undefined,
    };
  },
};

/** How `ls` prints for its flags: long lines unless the shell's plain `ls`. */
function listingStyle(flags: LsFlags): ListingStyle {
  return { long: flags.long !== false, human: flags.humanReadable === true };
}

/** `bftp stat REMOTE`: describe one remote file or folder. */
const stat: RemoteCommandSpec = {
  name: "stat",
  description: "Describe a remote file or folder: type, size, last change",
  argument: "bftp://[user@]host[:port]/path",
  examples: [
    "bftp stat bftp://files.local/docs/report.pdf",
    "bftp stat --json bftp://127.0.0.1:9000/docs | jq .entry.type",
  ],
  run: async (client, path) => {
    const entry = await client.stat(path);
    const size =
      entry.type === "dir" ? `${entry.size}` : `${entry.size} (${formatBytes(entry.size)})`;
    const line = [
      `    path: ${escapeControls(path)}`,
      `    type: ${entry.type}`,
      `    size: ${size}`,
      `modified: ${formatDate(entry.mtime)} (${new Date(entry.mtime).toISOString()})`,
    ].join("\n");
    return { json: { path, entry }, line };
  },
};

/** `bftp hash REMOTE`: the SHA-256 of a remote file, printed as `sha256sum` prints it. */
const hash: RemoteCommandSpec = {
  name: "hash",
  description: "Print the SHA-256 of a remote file, as sha256sum does",
  argument: "the file: bftp://[user@]host[:port]/path",
  about: `The server reads the file; nothing is downloaded. The line is "HEX  PATH", so it can be
compared with sha256sum's output of a local copy.`,
  examples: [
    "bftp hash bftp://files.local/iso/big.iso",
    "bftp hash bftp://files.local/a.txt; sha256sum a.txt",
    "bftp hash --json bftp://127.0.0.1:9000/a.txt | jq -r .value",
  ],
  run: async (client, path) => {
    const value = await client.hash(path);
    return { json: { path, alg: "sha256", value }, line: `${value}  ${escapeControls(path)}` };
  },
};

/** `bftp mkdir REMOTE [-p]`: create a remote folder. */
const mkdir: RemoteCommandSpec<MkdirFlags> = {
  name: "mkdir",
  description: "Create a remote folder",
  argument: "the new folder: bftp://[user@]host[:port]/path",
  options: [
    {
      flags: "-p, --parents",
      description: "create missing parent folders too; an existing folder is fine",
    },
  ],
  examples: [
    "bftp mkdir bftp://files.local/photos",
    "bftp mkdir -p bftp://files.local/photos/2024/summer",
  ],
  run: async (client, path, flags) => {
    let created: string;
    try {
      created = await client.mkdir(path, { parents: flags.parents === true });
    } catch (err) {
      throw withHint(err, "BFTP_ERR_NOT_FOUND", "use -p to create the missing parents");
    }
    return { json: { path: created }, line: `created ${escapeControls(created)}` };
  },
};

/** `bftp rm REMOTE`: delete a remote file. */
const rm: RemoteCommandSpec<RmFlags> = {
  name: "rm",
  description: "Delete a remote file (-r: a folder and everything in it)",
  argument: "the file: bftp://[user@]host[:port]/path",
  options: [
    {
      flags: "-r, --recursive",
      description: "remove folders too, with everything below them (never the root)",
    },
    LITERAL_OPTION,
  ],
  about: `A path with a glob (*, ?, [...], **) removes every file it matches; one that matches
nothing is an error (BFTP_ERR_NO_MATCH). Quote it so the local shell leaves it alone.
With -r a folder goes with everything below it, as rm -r does: links inside are removed,
never followed; the server's root folder is refused (BFTP_ERR_INVALID_ARGUMENT). The first
failure stops the walk; what was removed before it stays removed.`,
  examples: [
    "bftp rm bftp://files.local/docs/old-report.pdf",
    "bftp rm -r bftp://files.local/old-backups",
    `bftp rm -q "bftp://files.local/with space.txt"`,
    `bftp rm 'bftp://files.local/tmp/*.log'`,
    `bftp rm 'bftp://files.local/odd\\*name.txt'        a backslash makes * plain (or --literal)`,
  ],
  run: async (client, pattern, flags) => {
    const { matches, path } = await globbed(client, pattern, flags);
    if (flags.recursive === true) return removeTrees(client, matches?.map((m) => m.path) ?? [path]);
    if (matches !== undefined) return removeAll(client, matches);
    try {
      await client.delete(path);
    } catch (err) {
      if (!isBftpError(err, "BFTP_ERR_IS_A_DIRECTORY")) throw err;
      // One sentence, not the server's "(use RMDIR)" with a hint after it (issue 13, item 8).
      throw new BftpError(
        err.code,
        `Cannot delete ${JSON.stringify(path)}: it is a folder (empty folders go with bftp rmdir, full ones with bftp rm -r)`,
        { cause: err },
      );
    }
    return { json: { path }, line: `removed ${escapeControls(path)}` };
  },
};

/**
 * Removes every file a glob matched, pipelined; the first failure (a folder among them, a
 * refusal) is thrown once all were tried, naming how many were removed.
 */
async function removeAll(
  client: BftpClient,
  matches: readonly GlobMatch[],
): Promise<RemoteOutcome> {
  const outcomes = await Promise.allSettled(matches.map((m) => client.delete(m.path)));
  const removed = matches.filter((_, i) => outcomes[i]?.status === "fulfilled").map((m) => m.path);
  const failure = outcomes.find((o) => o.status === "rejected");
  if (failure !== undefined) {
    const err: unknown = failure.reason;
    if (!isBftpError(err)) throw err;
    throw new BftpError(
      err.code,
      `${err.message} (removed ${removed.length} of the ${matches.length} matches${err.code === "BFTP_ERR_IS_A_DIRECTORY" ? "; folders go with bftp rmdir" : ""})`,
      { cause: err.cause ?? err, details: { ...err.details, removed: removed.length } },
    );
  }
  return {
    json: { paths: removed },
    line: removed.map((p) => `removed ${escapeControls(p)}`).join("\n"),
  };
}

/** `rm -r`: each path removed with everything below it (removeTree), one after another. */
async function removeTrees(client: BftpClient, paths: readonly string[]): Promise<RemoteOutcome> {
  const removed: RemovedTree[] = [];
  for (const path of paths) removed.push(await removeTree(client, path));
  return {
    json: removed.length === 1 ? { ...removed[0] } : { removed },
    line: removed
      .map(
        (r) =>
          `removed ${escapeControls(r.path)} (${r.files} ${r.files === 1 ? "file" : "files"}, ${r.folders} ${r.folders === 1 ? "folder" : "folders"})`,
      )
      .join("\n"),
  };
}

/** `bftp rmdir REMOTE`: remove an empty remote folder. */
const rmdir: RemoteCommandSpec = {
  name: "rmdir",
  description: "Remove an empty remote folder",
  argument: "the folder: bftp://[user@]host[:port]/path",
  examples: [
    "bftp rmdir bftp://files.local/old",
    "bftp rmdir --json bftp://127.0.0.1:9000/tmp/empty",
  ],
  run: async (client, path) => {
    try {
      await client.rmdir(path);
    } catch (err) {
      throw withHint(
        err,
        "BFTP_ERR_NOT_EMPTY",
        "remove what is inside it first, or use bftp rm -r",
      );
    }
    return { json: { path }, line: `removed folder ${escapeControls(path)}` };
  },
};

/**
 * The commands that act on one remote path (ls, stat, hash, mkdir, rm, rmdir), built from
 * their table entries by {@link remoteCommand}, in the order `bftp --help` lists them.
 *
 * @example
 * for (const command of remoteCommands()) program.addCommand(command);
 */
/** The table's commands by name: the operations the command line and the shell share. */
export const REMOTE_SPECS = { ls, stat, hash, mkdir, rm, rmdir } as const;

export function remoteCommands(): Command[] {
  return [
    remoteCommand(ls),
    remoteCommand(stat),
    remoteCommand(hash),
    remoteCommand(mkdir),
    remoteCommand(rm),
    remoteCommand(rmdir),
  ];
}
