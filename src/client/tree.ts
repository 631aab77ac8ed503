import fs from "node:fs/promises";
import path from "node:path";
import { BftpError, isBftpError } from "../errors.js";
import type { BftpClient } from "./client.js";
import type { DownloadOptions, TransferResult } from "./download.js";
import { escapeControls, localName } from "./safe-name.js";
import type { UploadOptions } from "./upload.js";
import { downloadListStream } from "./list-stream.js";
import { downloadTreeStream } from "./tree-stream.js";
import { uploadTreeStream } from "./tree-upload.js";
import { inWindow } from "./window.js";

/** Options for batch and tree transfers. */
export interface BatchOptions {
  /** Transfers in flight at once on the one connection (default 64). */
  readonly window?: number;
  /** Told about anything skipped (an unsafe name from the server, a link, a special file). */
  readonly onWarning?: (message: string) => void;
  /** Told when each file finishes, for a running total. */
  readonly onFile?: (result: TransferResult) => void;
  /**
   * Move a tree one file per GET/PUT even when the server speaks the tree stream
   * (PROTOCOL.md §8.13): for comparisons and tests. Default false.
   */
  readonly perFile?: boolean;
}

/** One file of a batch download. */
export interface BatchItem {
  readonly remote: string;
  readonly local: string;
}

/** What a batch or tree transfer did: the files moved, and those that failed with why. */
export interface BatchResult {
  readonly files: TransferResult[];
  readonly failed: { readonly path: string; readonly error: BftpError }[];
  readonly skipped: number;
}

/**
 * Downloads many files over the one connection. A server that offers GETTREE's list form
 * (`"tree-list"`, PROTOCOL.md §8.13) sends them all in one stream (list-stream.ts); otherwise,
 * or with `perFile`, requests are pipelined, up to `window` at a time, one GET each.
 *
 * @example
 * await downloadMany(client, names.map((n) => ({ remote: `/in/${n}`, local: `out/${n}` })));
 */
export async function downloadMany(
  client: BftpClient,
  items: readonly BatchItem[],
  options: BatchOptions & DownloadOptions = {},
): Promise<BatchResult> {
  if (options.perFile !== true && items.length > 0 && client.offers("tree-list")) {
    return downloadListStream(client, items, options);
  }
  const outcomes = await inWindow(items, options.window ?? 64, async (item) => {
    const result = await client.download(item.remote, item.local, options);
    options.onFile?.(result);
    return result;
  });
  return collect(
    outcomes,
    items.map((i) => i.remote),
    0,
  );
}

/**
 * Uploads many local files over the one connection, pipelined, up to `window` at a time, one
 * PUT each (what `bftp put a b c URL/dir/` sends). Each is checked and committed by the server
 * as a single upload is; one failure does not stop the others.
 *
 * @example
 * await uploadMany(client, names.map((n) => ({ local: `out/${n}`, remote: `/in/${n}` })));
 */
export async function uploadMany(
  client: BftpClient,
  items: readonly BatchItem[],
  options: BatchOptions & UploadOptions = {},
): Promise<BatchResult> {
  const outcomes = await inWindow(items, options.window ?? 64, async (item) => {
    const result = await client.upload(item.local, item.remote, options);
    options.onFile?.(result);
    return result;
  });
  return collect(
    outcomes,
    items.map((i) => i.remote),
    0,
  );
}

/**
 * Copies a remote directory tree into `localDir` (created if missing). Every name from the
 * server is checked with `localName` first: `..`, separators, absolute names and control
 * characters are skipped with a warning, so nothing is written outside `localDir`. A server
 * that speaks the tree stream sends it all in one GETTREE (tree-stream.ts, issue 12); others
 * are walked with LIST and their files fetched pipelined, one GET each.
 */
export async function downloadTree(
  client: BftpClient,
  remoteDir: string,
  localDir: string,
  options: BatchOptions & DownloadOptions = {},
): Promise<BatchResult> {
  if (options.perFile !== true && client.offers("tree")) {
    return downloadTreeStream(client, remoteDir, localDir, options);
  }
  const items: BatchItem[] = [];
  const failedDirs: { path: string; error: BftpError }[] = [];
  let skipped = 0;
  const walk = async (remote: string, local: string): Promise<void> => {
    let entries;
    try {
      await fs.mkdir(local, { recursive: true });
      entries = await client.list(remote);
    } catch (err) {
      // One unreadable folder fails that folder, not the whole tree (a lost connection still
      // fails everything after it, through the client).
      if (remote === remoteDir || !isBftpError(err) || !err.remote) throw asBftp(err);
      failedDirs.push({ path: remote, error: err });
      return;
    }
    for (const entry of entries) {
      let name: string;
      try {
        name = localName(entry.name);
      } catch {
        skipped++;
        options.onWarning?.(
          `skipped ${escapeControls(JSON.stringify(entry.name))} in ${escapeControls(remote)}: unsafe name from the server`,
        );
        continue;
      }
      const childRemote = path.posix.join(remote, name);
      const childLocal = path.join(local, name);
      if (entry.type === "dir") await walk(childRemote, childLocal);
      else if (entry.type === "file") items.push({ remote: childRemote, local: childLocal });
      else {
        skipped++;
        options.onWarning?.(`skipped ${escapeControls(childRemote)}: a ${entry.type}, not a file`);
      }
    }
  };
  await walk(remoteDir, localDir);
  const result = await downloadMany(client, items, options);
  return {
    ...result,
    failed: [...failedDirs, ...result.failed],
    skipped: result.skipped + skipped,
  };
}

/**
 * Copies a local directory tree to `remoteDir` (created with its parents). Links and special
 * files are skipped with a warning; files are uploaded pipelined, up to `window` at a time.
 */
export async function uploadTree(
  client: BftpClient,
  localDir: string,
  remoteDir: string,
  options: BatchOptions & UploadOptions = {},
): Promise<BatchResult> {
  if (options.perFile !== true && client.offers("puttree")) {
    // One PUTTREE into the folder (PROTOCOL.md §8.14, issue 12); the folder itself first.
    await client.mkdir(remoteDir, { parents: true });
    return uploadTreeStream(client, localDir, remoteDir, options);
  }
  const files: { local: string; remote: string }[] = [];
  let skipped = 0;
  const walk = async (local: string, remote: string): Promise<void> => {
    await client.mkdir(remote, { parents: true });
    for (const entry of await fs.readdir(local, { withFileTypes: true })) {
      const childLocal = path.join(local, entry.name);
      const childRemote = path.posix.join(remote, entry.name);
      if (entry.isDirectory()) await walk(childLocal, childRemote);
      else if (entry.isFile()) files.push({ local: childLocal, remote: childRemote });
      else {
        skipped++;
        options.onWarning?.(
          `skipped ${escapeControls(childLocal)}: not a regular file or directory`,
        );
      }
    }
  };
  await walk(localDir, remoteDir);
  const outcomes = await inWindow(files, options.window ?? 64, async (file) => {
    const result = await client.upload(file.local, file.remote, options);
    options.onFile?.(result);
    return result;
  });
  return collect(
    outcomes,
    files.map((f) => f.remote),
    skipped,
  );
}

function asBftp(err: unknown): BftpError {
  return isBftpError(err)
    ? err
    : new BftpError("BFTP_ERR_LOCAL_FILE", `Cannot make the local folder: ${String(err)}`, {
        cause: err,
      });
}

function collect(
  outcomes: readonly PromiseSettledResult<TransferResult>[],
  paths: readonly string[],
  skipped: number,
): BatchResult {
  const files: TransferResult[] = [];
  const failed: { path: string; error: BftpError }[] = [];
  outcomes.forEach((outcome, i) => {
    if (outcome.status === "fulfilled") files.push(outcome.value);
    else {
      const error = isBftpError(outcome.reason)
        ? outcome.reason
        : new BftpError("BFTP_ERR_INTERNAL", String(outcome.reason), { cause: outcome.reason });
      failed.push({ path: paths[i] ?? "?", error });
    }
  });
  return { files, failed, skipped };
}
