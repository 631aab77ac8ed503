import fs from "node:fs/promises";
import path from "node:path";
import { Command } from "commander";
import type { BftpClient } from "../client/client.js";
import type { Location } from "../client/location.js";
import { BftpError } from "../errors.js";
import {
  EXIT_HELP,
  addCommonOptions,
  location,
  note,
  runAction,
  statOrNone,
  usageError,
  type CommonFlags,
} from "./common.js";
import type { ProgressDisplay } from "./progress-display.js";
import { STDIO, checkPipeFlags, putFromStdin } from "./pipe-transfer.js";
import { commandEndpoint, runTransfer, type Endpoint } from "./run-transfer.js";
import { putMany } from "./put-many.js";
import { putTreeInto, sameContent } from "./put-tree.js";
import { localKind } from "./transfer-plan.js";
import type { TransferReport } from "./transfer-report.js";
import { remoteTreeTarget } from "./tree-target.js";

/** Flags of `bftp put`. */
export interface PutFlags extends CommonFlags {
  readonly recursive?: boolean;
  readonly continue?: boolean;
  readonly overwrite?: boolean;
  /** Keep the local modification time on a file (trees always keep it). */
  readonly preserve?: boolean;
}

/** `bftp put LOCAL REMOTE`: upload a file, or a folder with -r (like `scp`, `cp -r`). */
export function putCommand(): Command {
  return addCommonOptions(
    new Command("put")
      .description("Upload a file, or a folder with -r")
      .usage("[options] <local...> <remote>")
      .argument(
        "<paths...>",
        "LOCAL (a file or folder; several go into one remote folder) then REMOTE, where to put it: bftp://[user@]host[:port]/path; an existing folder receives it",
      )
      .option("-r, --recursive", "copy a folder and everything in it, like cp -r")
      .option("-c, --continue", "continue an interrupted upload the server kept")
      .option("--overwrite", "replace remote files that exist (default: refuse and exit 1)")
      .option(
        "-p, --preserve",
        "keep the local modification time, as scp -p (folders with -r always keep times)",
      ),
  )
    .addHelpText(
      "after",
      `
Examples:
  bftp put report.pdf bftp://files.local/docs/        uploads /docs/report.pdf
  bftp put report.pdf bftp://files.local/docs/r.pdf   uploads under another name
  bftp put -c big.iso bftp://files.local/iso/         continues an interrupted upload
  bftp put -r photos bftp://files.local/backup        /backup/photos if /backup exists,
                                                      else /backup becomes the copy
  bftp put -r photos/ bftp://files.local/backup       the files of photos go straight
                                                      into /backup (made if missing)
  bftp put --overwrite --json notes.txt bftp://127.0.0.1:9000/notes.txt
  bftp put *.txt bftp://files.local/notes/            several files into one folder, over
                                                      one connection (the shell expands *)
  bftp put -r a.txt photos bftp://files.local/new/    a trailing slash creates a missing folder
  tar c photos | bftp put - bftp://files.local/backup/photos.tar   "-" is standard input

With LOCAL "-" standard input is uploaded with no size in advance: the server checks the
checksum and commits the file only once the input ended and every byte arrived, so a lost
connection leaves the old file or none (a producer that dies early looks like the end of its
output, as for any pipe: use set -o pipefail). REMOTE must name the file (not a folder); -r and -c
do not apply.

With several LOCALs, REMOTE is a folder: an existing one, or a missing one written with a
trailing "/" (created, with its parents); anything else is refused (BFTP_ERR_NOT_A_DIRECTORY)
before a byte is sent. Each file follows the rules of a single put (no-clobber, --overwrite,
-c); one that fails does not stop the others (exit 5). Folders need -r and arrive under their
own names; two sources with one name are refused.

The server commits an upload only once every byte and its checksum arrived: the remote name
shows the old file or the complete new one, never a partial. An interrupted upload is kept
by the server for -c. With -c, a remote file that is already the whole local file (same
SHA-256) counts as done; one that differs is left alone and reported. An interrupted
put -r -c, run again as it was, continues the same target and sends only the files the
server does not hold complete (same size and time); it never nests a second copy.

With -r, a trailing slash on LOCAL means its contents, as in rsync (photos/ copies what is
in the folder, photos the folder itself): the files go straight into REMOTE, whether or not
it exists, never into REMOTE/photos, so the same command run again lands in the same place.
Without the slash, the cp -r rule above applies.

Modification times: a single file is stamped when it arrives, as with cp and scp; -p keeps
the local file's time instead (to the millisecond). Folders copied with -r always keep their files'
times, as rsync -t does, so a re-run can tell what changed; bftp sync relies on that.
${EXIT_HELP}`,
    )
    .action(async (paths: string[], flags: PutFlags, command: Command) => {
      const locals = paths.slice(0, -1);
      const remote = paths.at(-1) ?? "";
      // Commander allows a variadic argument only last: "LOCAL... REMOTE" is checked here,
      // and reported as commander reports a missing argument (exit 2, with the help hint).
      if (locals.length === 0) {
        command.error("error: missing required argument 'remote'", {
          code: "commander.missingArgument",
          exitCode: 1,
        });
      }
      await runAction(
        flags,
        () => {
          const where = location(remote, flags);
          return putOperation(commandEndpoint(where, flags), locals, where.path, flags);
        },
        { resumable: !locals.includes("-") }, // a pipe cannot be resumed
      );
    });
}

/**
 * `put` on `endpoint`, the one implementation behind `bftp put` and the shell's `put` and
 * `mput` (issue 13, item 9): local files or folders (several go into one remote folder,
 * put-many.ts), `-` for standard input, to `remote` as the user wrote it.
 */
export function putOperation(
  endpoint: Endpoint,
  locals: readonly string[],
  remote: string,
  flags: PutFlags,
): Promise<number> {
  if (locals.length > 1) return putMany(endpoint, locals, remote, flags);
  return put(endpoint, locals[0] ?? "", remote, flags);
}

async function put(
  endpoint: Endpoint,
  local: string,
  remote: string,
  flags: PutFlags,
): Promise<number> {
  const where = { ...endpoint.where, path: remote };
  if (local === STDIO) {
    checkPipeFlags(flags, "put");
    return runTransfer(endpoint, flags, (client) => putFromStdin(client, where, flags));
  }
  const kind = await localKind(local);
  if (kind === "none") {
    throw new BftpError(
      "BFTP_ERR_LOCAL_FILE",
      `Cannot upload ${JSON.stringify(local)}: no such file or folder`,
    );
  }
  if (kind === "dir" && flags.recursive !== true) {
    throw usageError(`Cannot upload ${JSON.stringify(local)}: it is a folder; use -r to copy it`);
  }
  return runTransfer(endpoint, flags, (client, display) => {
    const job: PutJob = { client, local, where, flags, display };
    return kind === "dir" ? putTree(job) : putFile(job);
  });
}

/** One `bftp put` on its connection: what the file and the folder cases both read. */
interface PutJob {
  readonly client: BftpClient;
  readonly local: string;
  readonly where: Location;
  readonly flags: PutFlags;
  readonly display: ProgressDisplay;
}

async function putFile(job: PutJob): Promise<Omit<TransferReport, "ms">> {
  const { client, local, where, flags, display } = job;
  const name = path.basename(local);
  let target = where.path;
  let existing = where.path.endsWith("/") ? undefined : await statOrNone(client, where.path);
  if (where.path.endsWith("/") || existing?.type === "dir") {
    target = path.posix.join(where.path, name);
    existing = await statOrNone(client, target);
  }
  // Checked before any byte is sent (PROTOCOL.md §7.3: a refused PUT still carries its data).
  if (existing !== undefined && flags.overwrite !== true) {
    const resumed = flags.continue === true && existing.type === "file";
    if (resumed && (await sameContent(client, local, target, existing.size))) {
      return {
        direction: "put",
        source: local,
        destination: target,
        tree: false,
        files: [],
        failed: [],
        kept: [target],
        skipped: 0,
        warnings: [],
      };
    }
    throw new BftpError(
      existing.type === "dir" ? "BFTP_ERR_IS_A_DIRECTORY" : "BFTP_ERR_EXISTS",
      `Cannot upload to ${JSON.stringify(target)}: it exists on the server${resumed ? " and differs from the local file" : ""} (use --overwrite to replace it)`,
    );
  }
  note(flags, `uploading ${local} to ${target}`);
  display.begin(target, (await fs.stat(local)).size);
  const result = await client.upload(local, target, {
    resume: flags.continue === true,
    overwrite: flags.overwrite === true,
    onProgress: display.onProgress,
    preserveTime: flags.preserve === true,
  });
  display.done(result.path, result.size);
  return {
    direction: "put",
    source: local,
    destination: target,
    tree: false,
    files: [{ ...result, local }],
    failed: [],
    kept: [],
    skipped: 0,
    warnings: [],
  };
}

async function putTree(job: PutJob): Promise<Omit<TransferReport, "ms">> {
  const { client, local, where } = job;
  // cp -r: an existing remote folder receives the copy under the source's name; a missing
  // one becomes the copy.
  const existing = await statOrNone(client, where.path);
  if (existing !== undefined && existing.type !== "dir") {
    throw new BftpError(
      "BFTP_ERR_NOT_A_DIRECTORY",
      `Cannot copy a folder to ${JSON.stringify(where.path)}: it exists and is not a folder`,
    );
  }
  // A trailing slash (its contents) or, with -c, the copy a first run began: no nesting.
  const dest = await remoteTreeTarget(client, local, where.path, {
    exists: existing !== undefined,
    resume: job.flags.continue === true,
  });
  return putTreeInto({ ...job, plan: true }, local, dest);
}
