import fs from "node:fs/promises";
import path from "node:path";
import type { BftpClient } from "../client/client.js";
import type { Location } from "../client/location.js";
import { escapeControls, localName } from "../client/safe-name.js";
import { downloadMany, downloadTree, type BatchItem } from "../client/tree.js";
import { BftpError } from "../errors.js";
import { note, usageError, warn, type CommonFlags } from "./common.js";
import { expandRemoteGlob, isRemoteGlob, unescapeGlob } from "./remote-glob.js";
import { runTransfer, type Endpoint } from "./run-transfer.js";
import { localKind } from "./transfer-plan.js";
import { isAlreadyComplete, movedFile } from "./transfer-report.js";
import { treeTransferOptions } from "./tree-transfer-options.js";

/** Flags of `bftp get` that a batch reads. */
interface ManyFlags extends CommonFlags {
  readonly recursive?: boolean;
  readonly preserve?: boolean;
  readonly continue?: boolean;
  readonly overwrite?: boolean;
  /** Remote paths as written: no globs, no backslash escapes. */
  readonly literal?: boolean;
}

/**
 * `bftp get URL/a URL/b DIR` and `bftp get 'URL/*.txt' DIR`: several remote files into one
 * existing local folder, over one connection, pipelined (downloadMany), each checked and
 * renamed into place as a single get does. The sources must be on one server (one
 * connection). A source with a glob (remote-glob.ts) stands for the files it matches, saved
 * under their path below the pattern's literal folder (`**` keeps the tree's shape); matched
 * folders are copied whole with -r (one pattern), else skipped with a warning. Two files may
 * not share a local name.
 */
export async function getMany(
  endpoint: Endpoint,
  sources: readonly string[],
  local: string,
  flags: ManyFlags,
): Promise<number> {
  const first = sources[0];
  if (first === undefined) throw usageError("Give at least one file to download");
  const literal = flags.literal === true;
  // -r takes one source: a folder (get-command.ts), or one pattern whose matched folders are
  // copied whole.
  const recursive = flags.recursive === true;
  if (recursive && (sources.length > 1 || literal || !isRemoteGlob(first))) {
    throw usageError(
      "Cannot copy several folders at once with -r: give one folder, or one pattern, per command",
    );
  }
  if (local === "-") {
    throw usageError(`Cannot write several files to standard output: give a folder, not "-"`);
  }
  if ((await localKind(local)) !== "dir") {
    throw new BftpError(
      "BFTP_ERR_NOT_A_DIRECTORY",
      `Cannot save ${sources.length === 1 ? "the files matched" : `${sources.length} files`} into ${JSON.stringify(local)}: with several sources the last argument must be an existing folder (create it first)`,
    );
  }
  return runTransfer(endpoint, flags, async (client, display) => {
    const warnings: string[] = [];
    const items: BatchItem[] = [];
    const trees: BatchItem[] = [];
    const seen = new Set<string>();
    for (const remote of sources) {
      for (const source of await sourcesOf(client, remote, { literal, recursive, warnings })) {
        const name = safeLocalPath(source.relative);
        if (name === undefined) {
          // A matched name that could write outside LOCAL, as downloadTree skips it.
          warnings.push(
            `skipped ${escapeControls(JSON.stringify(source.remote))}: unsafe name from the server`,
          );
          continue;
        }
        if (seen.has(name)) {
          throw usageError(`Cannot save two sources as ${JSON.stringify(name)} in one folder`);
        }
        seen.add(name);
        (source.dir ? trees : items).push({ remote: source.remote, local: path.join(local, name) });
      }
    }
    for (const message of warnings) warn(flags, message);
    // `**` keeps the tree's shape: the folders below LOCAL are made first (names checked).
    const folders = new Set([...items, ...trees].map((i) => path.dirname(i.local)));
    for (const folder of folders) await fs.mkdir(folder, { recursive: true });
    note(flags, `downloading ${items.length} files into ${local}`);
    const result = await downloadMany(client, items, {
      resume: flags.continue === true,
      preserveTime: flags.preserve === true,
      overwrite: flags.overwrite === true,
      onProgress: display.onProgress,
      onFile: (f) => {
        display.done(f.path, f.size);
      },
    });
    const localOf = new Map(items.map((i) => [i.remote, i.local]));
    const report = {
      direction: "get" as const,
      source: sources.join(" "),
      destination: local,
      tree: true,
      files: result.files
        .filter((f) => !isAlreadyComplete(f))
        .map((f) => movedFile(f, localOf.get(f.path) ?? local)),
      failed: [...result.failed],
      kept: result.files.filter(isAlreadyComplete).map((f) => localOf.get(f.path) ?? local),
      skipped: result.skipped + warnings.length,
      warnings,
    };
    // With -r, each folder matched is copied whole into LOCAL under its own path, as get -r
    // copies one (downloadTree: one GETTREE stream where the server offers it).
    for (const tree of trees) {
      const { options, warnings: more } = treeTransferOptions(flags, { display, verb: "got" });
      const copied = await downloadTree(client, tree.remote, tree.local, options);
      const below = (remote: string): string =>
        path.join(tree.local, ...path.posix.relative(tree.remote, remote).split("/"));
      report.files.push(
        ...copied.files
          .filter((f) => !isAlreadyComplete(f))
          .map((f) => movedFile(f, below(f.path))),
      );
      report.kept.push(...copied.files.filter(isAlreadyComplete).map((f) => below(f.path)));
      report.failed.push(...copied.failed);
      report.skipped += copied.skipped;
      report.warnings.push(...more);
    }
    return report;
  });
}

/** What one source stands for, as {@link sourcesOf} finds it. */
interface Source {
  readonly remote: string;
  /** Its path below the pattern's folder: where it goes below LOCAL. */
  readonly relative: string;
  /** A folder matched with -r, copied whole. */
  readonly dir: boolean;
}

/**
 * The files one source stands for: itself (backslash escapes removed unless `literal`), or
 * what its glob matches: files, and with `recursive` folders (what lies inside a matched
 * folder is left to its copy); other folders are left out, with a warning.
 */
async function sourcesOf(
  client: BftpClient,
  remote: string,
  options: { literal: boolean; recursive: boolean; warnings: string[] },
): Promise<Source[]> {
  const { literal, recursive, warnings } = options;
  if (literal || !isRemoteGlob(remote)) {
    const plain = literal ? remote : unescapeGlob(remote);
    const base = path.posix.basename(plain);
    if (base === "") {
      throw usageError(`Cannot choose a local name for ${JSON.stringify(plain)}: it names no file`);
    }
    return [{ remote: plain, relative: base, dir: false }];
  }
  const files: Source[] = [];
  const dirs = new Set<string>();
  for (const match of await expandRemoteGlob(client, remote)) {
    const parts = match.relative.split("/");
    if (parts.some((_, i) => i > 0 && dirs.has(parts.slice(0, i).join("/")))) continue;
    if (match.entry.type === "file") {
      files.push({ remote: match.path, relative: match.relative, dir: false });
    } else if (match.entry.type === "dir" && recursive) {
      dirs.add(match.relative);
      files.push({ remote: match.path, relative: match.relative, dir: true });
    } else {
      warnings.push(
        `skipped ${escapeControls(match.path)}: a ${match.entry.type === "dir" ? "folder (with -r, the folders a pattern matches are copied)" : match.entry.type}, not a file`,
      );
    }
  }
  return files;
}

/** A relative remote path as a local one, each part checked with localName; undefined if unsafe. */
function safeLocalPath(relative: string): string | undefined {
  try {
    return path.join(...relative.split("/").map((part) => localName(part)));
  } catch {
    return undefined;
  }
}

/** Whether two locations name the same server and login (they can share one connection). */
export function sameServer(a: Location, b: Location): boolean {
  return a.host === b.host && a.port === b.port && a.tls === b.tls && a.user === b.user;
}
