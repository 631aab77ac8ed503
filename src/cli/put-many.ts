import fs from "node:fs/promises";
import path from "node:path";
import type { BftpClient } from "../client/client.js";
import type { Location } from "../client/location.js";
import { uploadMany, type BatchItem } from "../client/tree.js";
import { inWindow } from "../client/window.js";
import { BftpError } from "../errors.js";
import { note, statOrNone, usageError, type CommonFlags } from "./common.js";
import type { ProgressDisplay } from "./progress-display.js";
import { STDIO } from "./pipe-transfer.js";
import { keptWithContinue, putTreeInto, sameContent } from "./put-tree.js";
import { runTransfer, type Endpoint } from "./run-transfer.js";
import { localKind, planLocalTree } from "./transfer-plan.js";
import { movedFile, type TransferReport } from "./transfer-report.js";
import { treeTransferOptions } from "./tree-transfer-options.js";

/** Flags of `bftp put` that a batch reads. */
export interface PutManyFlags extends CommonFlags {
  readonly recursive?: boolean;
  readonly continue?: boolean;
  readonly overwrite?: boolean;
  readonly preserve?: boolean;
}

type Failure = TransferReport["failed"][number];

/** STATs in flight at once when a batch checks which targets exist. */
const STAT_WINDOW = 64;

/**
 * `bftp put a b c URL/dir/` (issue 13, item 3): several local files, and folders with -r, into
 * one remote folder over one connection. Files go pipelined (uploadMany), folders one tree
 * each (uploadTree), by the rules of a single `bftp put`: no-clobber unless --overwrite (an
 * existing file is refused before its bytes are sent), -c counts an identical file as done.
 * The target must be a folder: an existing one, or with a trailing slash one that is created.
 * A missing source fails alone (exit 5); the shell's own glob expansion supplies the names.
 */
export async function putMany(
  endpoint: Endpoint,
  sources: readonly string[],
  remote: string,
  flags: PutManyFlags,
): Promise<number> {
  const where = { ...endpoint.where, path: remote };
  if (sources.includes(STDIO)) {
    throw usageError(`Cannot upload standard input ("-") with other sources: give it alone`);
  }
  const kinds = await Promise.all(sources.map(localKind));
  const missing: Failure[] = [];
  const files: string[] = [];
  const dirs: string[] = [];
  const seen = new Set<string>();
  sources.forEach((source, i) => {
    const kind = kinds[i];
    if (kind === "none") {
      missing.push({
        path: source,
        error: new BftpError(
          "BFTP_ERR_LOCAL_FILE",
          `Cannot upload ${JSON.stringify(source)}: no such file or folder`,
        ),
      });
      return;
    }
    if (kind === "dir" && flags.recursive !== true) {
      throw usageError(
        `Cannot upload ${JSON.stringify(source)}: it is a folder; use -r to copy it`,
      );
    }
    const name = path.basename(path.resolve(source));
    if (seen.has(name)) {
      throw usageError(`Cannot upload two sources as ${JSON.stringify(name)} into one folder`);
    }
    seen.add(name);
    (kind === "dir" ? dirs : files).push(source);
  });
  return runTransfer(endpoint, flags, async (client, display) => {
    const dir = await targetFolder(client, where, sources.length);
    if (display.drawing) await expectAll(display, files, dirs);
    note(flags, `uploading ${files.length + dirs.length} sources into ${dir}`);
    const report = await putFiles({ client, flags, display }, files, dir);
    const parts = [report];
    for (const source of dirs) {
      const dest = path.posix.join(dir, path.basename(path.resolve(source)));
      parts.push(await putTreeInto({ client, flags, display, plan: false }, source, dest));
    }
    return {
      direction: "put",
      source: sources.join(" "),
      destination: dir,
      tree: true,
      files: parts.flatMap((p) => p.files),
      failed: [...missing, ...parts.flatMap((p) => p.failed)],
      kept: parts.flatMap((p) => p.kept),
      skipped: parts.reduce((sum, p) => sum + p.skipped, 0),
      warnings: parts.flatMap((p) => p.warnings),
    };
  });
}

/**
 * The remote folder of a batch: an existing folder, or a missing one written with a trailing
 * slash (created, with its parents). Anything else fails as get's batch does for a local
 * folder (BFTP_ERR_NOT_A_DIRECTORY, before any byte is sent).
 */
async function targetFolder(client: BftpClient, where: Location, count: number): Promise<string> {
  const existing = await statOrNone(client, where.path);
  if (existing?.type === "dir") return where.path;
  if (existing === undefined && where.path.endsWith("/")) {
    return client.mkdir(where.path, { parents: true });
  }
  throw new BftpError(
    "BFTP_ERR_NOT_A_DIRECTORY",
    `Cannot upload ${count} sources to ${JSON.stringify(where.path)}: ${existing === undefined ? "no such folder on the server (end it with / to create it)" : "it is not a folder"}`,
  );
}

interface FilesJob {
  readonly client: BftpClient;
  readonly flags: PutManyFlags;
  readonly display: ProgressDisplay;
}

/** The plain files of a batch: those that exist remotely are settled first, the rest sent. */
async function putFiles(
  job: FilesJob,
  files: readonly string[],
  dir: string,
): Promise<Omit<TransferReport, "ms">> {
  const { client, flags, display } = job;
  const remotes = files.map((local) => path.posix.join(dir, path.basename(local)));
  // One STAT per file, pipelined (a LIST of the folder could be far larger than the batch).
  const existing =
    flags.overwrite === true
      ? []
      : await inWindow(remotes, STAT_WINDOW, (remote) => statOrNone(client, remote));
  const items: BatchItem[] = [];
  const failed: Failure[] = [];
  const kept: string[] = [];
  for (const [i, local] of files.entries()) {
    const remote = remotes[i] ?? "";
    const stat = existing[i];
    if (stat?.status === "rejected") throw stat.reason;
    const entry = stat?.value;
    if (entry === undefined) {
      items.push({ local, remote });
      continue;
    }
    // Settled before any byte is sent, as a single put does (PROTOCOL.md §7.3: a refused PUT
    // still carries its data).
    const resumed = flags.continue === true && entry.type === "file";
    if (resumed && (await sameContent(client, local, remote, entry.size))) {
      kept.push(remote);
      continue;
    }
    failed.push({
      path: remote,
      error: new BftpError(
        entry.type === "dir" ? "BFTP_ERR_IS_A_DIRECTORY" : "BFTP_ERR_EXISTS",
        `Cannot upload to ${JSON.stringify(remote)}: it exists on the server${resumed ? " and differs from the local file" : ""} (use --overwrite to replace it)`,
      ),
    });
  }
  const { options, warnings } = treeTransferOptions(flags, { display, verb: "sent" });
  const result = await uploadMany(client, items, {
    ...options,
    preserveTime: flags.preserve === true,
  });
  const localOf = new Map(items.map((i) => [i.remote, i.local]));
  const local = (remote: string): string => localOf.get(remote) ?? remote;
  // A file that appeared between the listing and its PUT was refused by the server.
  const done = await keptWithContinue(client, flags, result.failed, local);
  return {
    direction: "put",
    source: files.join(" "),
    destination: dir,
    tree: true,
    files: result.files.map((f) => movedFile(f, local(f.path))),
    failed: [...failed, ...result.failed.filter((_, i) => done[i] !== true)],
    kept: [...kept, ...result.failed.filter((_, i) => done[i] === true).map((f) => f.path)],
    skipped: result.skipped,
    warnings,
  };
}

/** Tells a drawn progress display the files and bytes of the whole batch. */
async function expectAll(
  display: ProgressDisplay,
  files: readonly string[],
  dirs: readonly string[],
): Promise<void> {
  let count = files.length;
  let bytes = 0;
  for (const f of files) bytes += (await fs.stat(f)).size;
  for (const d of dirs) {
    const plan = await planLocalTree(d);
    count += plan.files;
    bytes += plan.bytes;
  }
  display.expect(count, bytes);
}
