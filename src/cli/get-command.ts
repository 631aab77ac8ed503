import fs from "node:fs/promises";
import path from "node:path";
import { Command } from "commander";
import type { BftpClient } from "../client/client.js";
import { partialOf } from "../client/local-destination.js";
import type { Location } from "../client/location.js";
import { localName } from "../client/safe-name.js";
import { downloadTree } from "../client/tree.js";
import { BftpError, isBftpError } from "../errors.js";
import {
  EXIT_HELP,
  addCommonOptions,
  location,
  note,
  runAction,
  usageError,
  withHint,
  type CommonFlags,
} from "./common.js";
import type { ProgressDisplay } from "./progress-display.js";
import { getMany, sameServer } from "./get-many.js";
import { isRemoteGlob, unescapeGlob } from "./remote-glob.js";
import { STDIO, checkPipeFlags, getToStdout } from "./pipe-transfer.js";
import { commandEndpoint, runTransfer, type Endpoint } from "./run-transfer.js";
import { localKind, planRemoteTree } from "./transfer-plan.js";
import {
  isAlreadyComplete,
  isExistsFailure,
  movedFile,
  type TransferReport,
} from "./transfer-report.js";
import { removeLeftPartials } from "./continued-tree.js";
import { localTreeTarget } from "./tree-target.js";
import { treeTransferOptions } from "./tree-transfer-options.js";

/** Flags of `bftp get`. */
export interface GetFlags extends CommonFlags {
  readonly recursive?: boolean;
  readonly continue?: boolean;
  readonly overwrite?: boolean;
  readonly literal?: boolean;
  /** Keep the remote modification time on a file (trees always keep it). */
  readonly preserve?: boolean;
}

/** `bftp get REMOTE [LOCAL]`: download a file, or a folder with -r (like `scp`, `cp -r`). */
export function getCommand(): Command {
  return addCommonOptions(
    new Command("get")
      .description("Download a file, or a folder with -r")
      .argument(
        "<remote...>",
        "what to download: bftp://[user@]host[:port]/path; with three or more arguments, the last is an existing local folder",
      )
      .option("-r, --recursive", "copy a folder and everything in it, like cp -r")
      .option("-c, --continue", "continue an interrupted download (its NAME.bftp-part file)")
      .option("--overwrite", "replace local files that exist (default: refuse and exit 1)")
      .option(
        "-p, --preserve",
        "keep the remote modification time, as scp -p (folders with -r always keep times)",
      )
      .option(
        "--literal",
        "take remote paths as written: *, ? and [ are plain, \\ escapes nothing",
      ),
  )
    .addHelpText(
      "after",
      `
Examples:
  bftp get bftp://files.local/docs/report.pdf              saves ./report.pdf
  bftp get bftp://files.local/docs/report.pdf ~/Downloads  saves ~/Downloads/report.pdf
  bftp get -c bftp://files.local/iso/big.iso               continues an interrupted download
  bftp get -r bftp://files.local/photos backup             backup/photos if backup exists,
                                                           else backup becomes the copy
  bftp get -r bftp://files.local/photos/ backup            the files of /photos go straight
                                                           into backup (made if missing)
  bftp get --json bftp://127.0.0.1:9000/a.txt | jq .files
  bftp get bftp://h/a.txt bftp://h/b.txt ~/in             several files into one folder,
                                                           over one connection
  bftp get bftp://files.local/logs/app.log - | grep ERROR   "-" is standard output
  bftp get 'bftp://h/logs/*.txt' logs/                     a remote glob, quoted for the
                                                           local shell: every match
  bftp get 'bftp://h/src/**/*.ts' src/                     ** is any depth; the tree's
                                                           shape is kept below src/
  bftp get 'bftp://h/odd\\*name.txt'                        a backslash (or --literal)
                                                           makes *, ? and [ plain
  bftp get home:report.pdf                                 a named remote (config.toml)

A REMOTE with *, ?, [...] or ** is matched against the server's listings (a leading dot only
by a pattern that starts with one): the matched files go into LOCAL (an existing folder, "."
when omitted) over one connection; a pattern matching nothing fails (BFTP_ERR_NO_MATCH), one
whose walk lists over 100,000 entries too (BFTP_ERR_TOO_MANY_ENTRIES); matched folders are
skipped with a warning, or with -r (one pattern) copied whole.

With LOCAL "-" the file goes to standard output and nothing else does (no result line, no
bars; not with -r, -c or --json). Its checksum is checked at the end: a failure exits non-zero
after the bytes already written. A reader that stops early (| head) ends bftp quietly, with
no message and status 0.

A download is written to NAME.bftp-part and renamed once its checksum is verified, so a file
under its own name is always complete (a name too long for the suffix gets a shortened
partial name). A file that changes on the server while it is sent fails with
BFTP_ERR_FILE_CHANGED and keeps its partial: run the command again (with -c to keep what
matches). LOCAL may be a character device or FIFO (/dev/null, /dev/stdout, a named pipe):
it is written into, never replaced; a link to a file is written through, as cp does. With -c, a local file that is already the whole
remote file (same SHA-256) counts as done; one that differs is left alone and reported.
Names from the server that could write outside LOCAL ("../x", "/etc/x", control characters)
are skipped with a warning.

With -r, a trailing slash on REMOTE means its contents, as in rsync (photos/ copies what is
in the folder, photos the folder itself): the files go straight into LOCAL, whether or not it
exists, never into LOCAL/photos, so the same command run again lands in the same place
(with no LOCAL, the copy is ./photos either way). Without the slash, the cp -r rule above
applies. An interrupted get -r -c, run again as it
was, continues the same target and fetches only the files not yet complete there; it never
nests a second copy (a LOCAL that holds only names found at the top of REMOTE, partials
included, is taken as the copy the first run began), and leaves no NAME.bftp-part behind.

Modification times: a single file is stamped when it arrives, as with cp and scp; -p keeps
the remote file's time instead (to the millisecond). Folders copied with -r always keep their files'
times, as rsync -t does, so a re-run can tell what changed; bftp sync relies on that.
${EXIT_HELP}`,
    )
    .action(async (args: string[], flags: GetFlags) => {
      const local = args.length > 1 ? args.at(-1) : undefined;
      await runAction(
        flags,
        () => {
          const wheres = (args.length > 1 ? args.slice(0, -1) : args).map((a) =>
            location(a, flags),
          );
          const first = wheres[0];
          if (first === undefined) throw usageError("Give at least one file to download");
          for (const w of wheres) {
            if (!sameServer(w, first)) {
              throw usageError(
                "Cannot download from several servers in one command: the sources share one connection",
              );
            }
          }
          return getOperation(
            commandEndpoint(first, flags),
            wheres.map((w) => w.path),
            local,
            flags,
          );
        },
        { resumable: local !== "-" },
      ); // a pipe cannot be resumed
    });
}

/**
 * `get` on `endpoint`, the one implementation behind `bftp get` and the shell's `get` and
 * `mget` (issue 13, item 9): remote paths as the user wrote them (globs expanded unless
 * --literal), into `local` (a file, a folder, `-`, or the copy's own name when undefined).
 * Several sources, or a glob, take the batch's rules (get-many.ts); one folder with -r the
 * tree's; one file the single file's.
 */
export function getOperation(
  endpoint: Endpoint,
  remotes: readonly string[],
  local: string | undefined,
  flags: GetFlags,
): Promise<number> {
  const [remote = ""] = remotes;
  if (remotes.length > 1) {
    if (local === undefined) throw usageError("Give the local folder the files go into");
    return getMany(endpoint, remotes, local, flags);
  }
  // A glob stands for several files: the batch's rules, into LOCAL or ".".
  if (flags.literal !== true && isRemoteGlob(remote)) {
    return getMany(endpoint, [remote], local ?? ".", flags);
  }
  return get(endpoint, remote, local, flags);
}

async function get(
  endpoint: Endpoint,
  remoteArg: string,
  local: string | undefined,
  flags: GetFlags,
): Promise<number> {
  const remote = flags.literal === true ? remoteArg : unescapeGlob(remoteArg);
  const where = { ...endpoint.where, path: remote };
  if (local === STDIO) {
    checkPipeFlags(flags, "get");
    // Quiet: standard output carries the data, so no result line and no bars.
    return runTransfer(endpoint, { ...flags, quiet: true }, (client) =>
      getToStdout(client, where, flags),
    );
  }
  return runTransfer(endpoint, flags, async (client, display) => {
    const job: GetJob = { client, where, local, flags, display };
    if (flags.recursive === true && (await client.stat(where.path)).type === "dir") {
      return getTree(job);
    }
    return getFile(job);
  });
}

/** One `bftp get` on its connection: what the file and the folder cases both read. */
interface GetJob {
  readonly client: BftpClient;
  readonly where: Location;
  readonly local: string | undefined;
  readonly flags: GetFlags;
  readonly display: ProgressDisplay;
}

async function getFile(job: GetJob): Promise<Omit<TransferReport, "ms">> {
  const { client, where, local, flags, display } = job;
  const kind = local === undefined ? "none" : await localKind(local);
  let target: string;
  if (local === undefined) target = nameOf(where.path);
  else if (kind === "dir") target = path.join(local, nameOf(where.path));
  else if (/[/\\]$/.test(local)) throw noSuchFolder(local);
  else target = local;
  note(flags, `downloading ${where.path} to ${target}`);
  display.begin(where.path);
  let result;
  try {
    result = await client.download(where.path, target, {
      resume: flags.continue === true,
      overwrite: flags.overwrite === true,
      onProgress: display.onProgress,
      preserveTime: flags.preserve === true,
      // The CLI runs this one download: blocking its loop for each local write is safe, and
      // saves a thread-pool hand-off per write (issue 12; docs/performance.md).
      syncWrites: true,
    });
  } catch (err) {
    await removeEmptyPartial(target);
    if (isBftpError(err) && isExistsFailure(err, "get")) {
      throw new BftpError(
        err.code,
        flags.continue === true
          ? `${err.message} and differs from the remote file (use --overwrite to replace it)`
          : `${err.message} (use --overwrite to replace it, or -c to continue a download)`,
        { cause: err.cause, details: err.details },
      );
    }
    throw withHint(err, "BFTP_ERR_IS_A_DIRECTORY", "use -r to copy a folder");
  }
  display.done(result.path, result.size);
  const complete = isAlreadyComplete(result);
  return {
    direction: "get",
    source: where.path,
    destination: target,
    tree: false,
    files: complete ? [] : [{ ...result, local: target }],
    failed: [],
    kept: complete ? [target] : [],
    skipped: 0,
    warnings: [],
  };
}

async function getTree(job: GetJob): Promise<Omit<TransferReport, "ms">> {
  const { client, where, local, flags, display } = job;
  // cp -r: an existing folder receives the copy under the source's name; a missing one
  // becomes the copy. The server's root has no name: its contents go into LOCAL.
  const base = where.path === "/" ? undefined : nameOf(where.path);
  let dest: string;
  if (local === undefined) {
    if (base === undefined) {
      throw usageError(
        "Cannot choose a local folder for the server's root: name one, as in bftp get -r bftp://HOST/ DIR",
      );
    }
    dest = base;
  } else {
    const kind = await localKind(local);
    if (kind === "other") throw notAFolder(local);
    // A trailing slash (its contents) or, with -c, the copy a first run began: no nesting.
    dest = await localTreeTarget(client, where.path, local, {
      exists: kind === "dir",
      resume: flags.continue === true,
      name: base,
    });
  }
  if ((await localKind(dest)) === "other") throw notAFolder(dest);
  if (display.drawing) {
    const plan = await planRemoteTree(client, where.path);
    display.expect(plan.files, plan.bytes);
  }
  note(flags, `copying ${where.path} into ${dest}`);
  const { options, warnings } = treeTransferOptions(flags, { display, verb: "got" });
  const result = await downloadTree(client, where.path, dest, options);
  // Most paths are a plain name in the folder itself (the sink checked every name with
  // localName): those are joined by hand, 10,000 times cheaper than relative and join.
  const remotePrefix = path.posix.join(where.path, "x").slice(0, -1);
  const localPrefix = path.join(dest, "x").slice(0, -1);
  const localOf = (remote: string): string => {
    const name = remote.slice(remotePrefix.length);
    return remote.startsWith(remotePrefix) && isPlainName(name)
      ? `${localPrefix}${name}`
      : path.join(dest, ...path.posix.relative(where.path, remote).split("/"));
  };
  for (const f of result.failed) await removeEmptyPartial(localOf(f.path));
  const kept = result.files.filter(isAlreadyComplete).map((f) => localOf(f.path));
  await removeLeftPartials(kept);
  return {
    direction: "get",
    source: where.path,
    destination: dest,
    tree: true,
    files: result.files
      .filter((f) => !isAlreadyComplete(f))
      .map((f) => movedFile(f, localOf(f.path))),
    failed: result.failed,
    kept,
    skipped: result.skipped,
    warnings,
  };
}

/** A name with no separator that is neither empty, `.` nor `..`: joined as it is. */
function isPlainName(name: string): boolean {
  return name !== "" && name !== "." && name !== ".." && !/[/\\]/.test(name);
}

/** The local name for a remote path's last component, checked like any name from a server. */
function nameOf(remote: string): string {
  const base = path.posix.basename(remote);
  if (base === "") {
    throw usageError(
      `Cannot choose a local name for ${JSON.stringify(remote)}: it names no file; give LOCAL`,
    );
  }
  return localName(base);
}

/**
 * Removes the partial download of `local` (`LOCAL.bftp-part`, or its shortened form for a
 * long name) if it is empty. A refused resumed GET can leave an empty one behind; empty, it
 * holds no progress for -c to keep.
 */
async function removeEmptyPartial(local: string): Promise<void> {
  const part = await partialOf(local);
  if (part === undefined) return;
  const stats = await fs.lstat(part).catch(() => undefined);
  if (stats?.isFile() === true && stats.size === 0) await fs.rm(part, { force: true });
}

function noSuchFolder(local: string): BftpError {
  return new BftpError(
    "BFTP_ERR_LOCAL_FILE",
    `Cannot save into ${JSON.stringify(local)}: no such folder (create it first)`,
  );
}

function notAFolder(local: string): BftpError {
  return new BftpError(
    "BFTP_ERR_LOCAL_FILE",
    `Cannot copy a folder to ${JSON.stringify(local)}: it exists and is not a folder`,
  );
}
