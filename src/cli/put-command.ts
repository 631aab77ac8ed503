import fs from "node:fs/promises";
import path from "node:path";
import { Command } from "commander";
import type { BftpClient } from "../client/client.js";
import { sha256Of } from "../client/download.js";
import type { Location } from "../client/location.js";
import { uploadTree } from "../client/tree.js";
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
import { runTransfer } from "./run-transfer.js";
import { localKind, planLocalTree } from "./transfer-plan.js";
import { isAlreadyComplete, isExistsFailure, type TransferReport } from "./transfer-report.js";
import { remoteTreeTarget } from "./tree-target.js";
import { treeTransferOptions } from "./tree-transfer-options.js";

/** Flags of `bftp put`. */
export interface PutFlags extends CommonFlags {
  readonly recursive?: boolean;
  readonly continue?: boolean;
  readonly overwrite?: boolean;
}

/** `bftp put LOCAL REMOTE`: upload a file, or a folder with -r (like `scp`, `cp -r`). */
export function putCommand(): Command {
  return addCommonOptions(
    new Command("put")
      .description("Upload a file, or a folder with -r")
      .argument("<local>", "the local file or folder")
      .argument(
        "<remote>",
        "where to put it: bftp://[user@]host[:port]/path; an existing folder receives it",
      )
      .option("-r, --recursive", "copy a folder and everything in it, like cp -r")
      .option("-c, --continue", "continue an interrupted upload the server kept")
      .option("--overwrite", "replace remote files that exist (default: refuse and exit 1)"),
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
  tar c photos | bftp put - bftp://files.local/backup/photos.tar   "-" is standard input

With LOCAL "-" standard input is uploaded with no size in advance: the server checks the
checksum and commits the file only once the input ended and every byte arrived, so a lost
connection leaves the old file or none (a producer that dies early looks like the end of its
output, as for any pipe: use set -o pipefail). REMOTE must name the file (not a folder); -r and -c
do not apply.

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
${EXIT_HELP}`,
    )
    .action(async (local: string, remote: string, flags: PutFlags) => {
      await runAction(flags, () => put(local, remote, flags));
    });
}

async function put(local: string, remoteArg: string, flags: PutFlags): Promise<number> {
  const where = location(remoteArg);
  if (local === STDIO) {
    checkPipeFlags(flags, "put");
    return runTransfer(where, flags, (client) => putFromStdin(client, where, flags));
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
  return runTransfer(where, flags, (client, display) => {
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
  const { client, local, where, flags, display } = job;
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
    resume: flags.continue === true,
  });
  if (display.drawing) {
    const plan = await planLocalTree(local);
    display.expect(plan.files, plan.bytes);
  }
  note(flags, `copying ${local} into ${dest}`);
  const { options, warnings } = treeTransferOptions(flags, { display, verb: "sent" });
  const result = await uploadTree(client, local, dest, options);
  const localOf = (remote: string): string =>
    path.join(local, ...path.posix.relative(dest, remote).split("/"));
  // With -c, a file refused because it exists counts as done if it is the same file.
  const done = await Promise.all(
    result.failed.map(
      async (f) =>
        flags.continue === true &&
        isExistsFailure(f.error, "put") &&
        (await sameContent(client, localOf(f.path), f.path)),
    ),
  );
  return {
    direction: "put",
    source: local,
    destination: dest,
    tree: true,
    // With -c, the files the server said it holds were not sent (PROTOCOL.md §8.14).
    files: result.files
      .filter((f) => !isAlreadyComplete(f))
      .map((f) => ({ ...f, local: localOf(f.path) })),
    failed: result.failed.filter((_, i) => done[i] !== true),
    kept: [
      ...result.files.filter(isAlreadyComplete).map((f) => f.path),
      ...result.failed.filter((_, i) => done[i] === true).map((f) => f.path),
    ],
    skipped: result.skipped,
    warnings,
  };
}

/**
 * True when the remote file is the local one, byte for byte: same size, then the server's
 * SHA-256 (HASH) against ours. What -c needs to count an existing file as done.
 */
async function sameContent(
  client: BftpClient,
  local: string,
  remote: string,
  remoteSize?: number,
): Promise<boolean> {
  const size = (await fs.stat(local)).size;
  if ((remoteSize ?? (await client.stat(remote)).size) !== size) return false;
  const [theirs, ours] = await Promise.all([client.hash(remote), sha256Of(local, size)]);
  return theirs === ours;
}
