import fs from "node:fs/promises";
import path from "node:path";
import type { BftpClient } from "../client/client.js";
import { sha256Of } from "../client/download.js";
import { uploadTree } from "../client/tree.js";
import { isRecordPath } from "../protocol/tree-records.js";
import { note, type CommonFlags } from "./common.js";
import type { ProgressDisplay } from "./progress-display.js";
import { planLocalTree } from "./transfer-plan.js";
import {
  isAlreadyComplete,
  isExistsFailure,
  movedFile,
  type TransferReport,
} from "./transfer-report.js";
import { treeTransferOptions } from "./tree-transfer-options.js";

/** Flags of `bftp put` that a folder copy reads. */
export interface PutTreeFlags extends CommonFlags {
  readonly continue?: boolean;
  readonly overwrite?: boolean;
}

/** Where a folder copy runs and reports: shared by `bftp put -r` and `bftp put -r a b URL/`. */
export interface PutTreeJob {
  readonly client: BftpClient;
  readonly flags: PutTreeFlags;
  readonly display: ProgressDisplay;
  /** False when the caller already told the display what to expect. */
  readonly plan: boolean;
}

/**
 * Copies the local folder `local` to the remote folder `dest` (uploadTree), and reports it:
 * with -c, a file refused because it exists counts as done (kept) when it is the same file.
 */
export async function putTreeInto(
  job: PutTreeJob,
  local: string,
  dest: string,
): Promise<Omit<TransferReport, "ms">> {
  const { client, flags, display } = job;
  if (job.plan && display.drawing) {
    const plan = await planLocalTree(local);
    display.expect(plan.files, plan.bytes);
  }
  note(flags, `copying ${local} into ${dest}`);
  const { options, warnings } = treeTransferOptions(flags, { display, verb: "sent" });
  const result = await uploadTree(client, local, dest, options);
  // The results' paths are the sent record paths below dest (no empty, "." or ".." name):
  // those are joined by hand, far cheaper than relative and join for each of 10,000.
  const remotePrefix = path.posix.join(dest, "x").slice(0, -1);
  const localPrefix = path.join(local, "x").slice(0, -1);
  const localOf = (remote: string): string => {
    const rel = remote.slice(remotePrefix.length);
    return remote.startsWith(remotePrefix) && isRecordPath(rel)
      ? `${localPrefix}${path.sep === "/" ? rel : rel.replaceAll("/", path.sep)}`
      : path.join(local, ...path.posix.relative(dest, remote).split("/"));
  };
  const done = await keptWithContinue(client, flags, result.failed, localOf);
  return {
    direction: "put",
    source: local,
    destination: dest,
    tree: true,
    // With -c, the files the server said it holds were not sent (PROTOCOL.md §8.14).
    files: result.files
      .filter((f) => !isAlreadyComplete(f))
      .map((f) => movedFile(f, localOf(f.path))),
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
 * For each failed upload, true when -c is on, the server refused it because it exists, and
 * the remote file is the local one (sameContent): what -c counts as done.
 */
export function keptWithContinue(
  client: BftpClient,
  flags: PutTreeFlags,
  failed: readonly {
    readonly path: string;
    readonly error: Parameters<typeof isExistsFailure>[0];
  }[],
  localOf: (remote: string) => string,
): Promise<boolean[]> {
  return Promise.all(
    failed.map(
      async (f) =>
        flags.continue === true &&
        isExistsFailure(f.error, "put") &&
        (await sameContent(client, localOf(f.path), f.path)),
    ),
  );
}

/**
 * True when the remote file is the local one, byte for byte: same size, then the server's
 * SHA-256 (HASH) against ours. What -c needs to count an existing file as done.
 */
export async function sameContent(
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
