import fs from "node:fs";
import path from "node:path";
import { BftpError, isBftpError } from "../errors.js";
import { isRecordPath } from "../protocol/tree-records.js";
import type { BftpClient } from "./client.js";
import type { TransferResult } from "./download.js";
import { localReason } from "./in-step.js";
import type { ProgressHandler } from "./progress.js";
import { removeTree } from "./remove-tree.js";
import { escapeControls, isLocalName } from "./safe-name.js";
import { downloadTreeStream, sha256OfFile } from "./tree-stream.js";
import { uploadTreeStream } from "./tree-upload.js";

/** Most entries a sync compares on each side: the two listings are held in memory. */
export const MAX_SYNC_ENTRIES = 1_000_000;

/** Which way a sync copies. */
export type SyncDirection = "down" | "up";

/** Options of {@link syncTree}. */
export interface SyncOptions {
  /** Compare same-size files by SHA-256 instead of modification time (rsync's --checksum). */
  readonly checksum?: boolean;
  /** Remove what the destination holds and the source does not (rsync's --delete). */
  readonly delete?: boolean;
  /** Work out and report every change, and make none. */
  readonly dryRun?: boolean;
  /** Told of each change, as it is planned (before it is made). */
  readonly onChange?: (change: SyncChange) => void;
  readonly onWarning?: (message: string) => void;
  readonly onFile?: (result: TransferResult) => void;
  readonly onProgress?: ProgressHandler;
  /** One GET or PUT per file even where the server speaks the tree stream (tests). */
  readonly perFile?: boolean;
}

/** One change a sync makes (or, with dryRun, would make), by path relative to the trees. */
export interface SyncChange {
  /** `send`: missing at the destination; `replace`: differs there; `delete`: only there. */
  readonly action: "send" | "replace" | "delete";
  readonly path: string;
  readonly type: "file" | "dir" | "other";
}

/** What a sync did. */
export interface SyncResult {
  /** Files sent that the destination lacked. */
  readonly sent: number;
  /** Files sent over a different one at the destination. */
  readonly replaced: number;
  /** Source files the destination already held (same size and time, or same SHA-256). */
  readonly unchanged: number;
  /** Files and folders removed from the destination (with `delete`); a folder counts once. */
  readonly deleted: number;
  /** Bytes sent. */
  readonly bytes: number;
  /** Files that failed, with why; nothing is deleted when one did. */
  readonly failed: readonly { readonly path: string; readonly error: BftpError }[];
  /** Source entries left out (links, special files, unsafe names), each with a warning. */
  readonly skipped: number;
  /** Every change planned, in order (what a dry run prints). */
  readonly changes: readonly SyncChange[];
}

interface Node {
  readonly type: "file" | "dir" | "other";
  readonly size: number;
  readonly mtime: number;
}

/** A tree as its paths relative to its root (the root itself left out). */
type Tree = Map<string, Node>;

/**
 * Brings `localDir` up to date with the remote folder `remoteDir` (`down`), or the remote
 * folder with `localDir` (`up`), as `rsync -rt` or `rclone sync` do: the destination becomes
 * a copy of the source's contents (the folder itself is never nested, with or without a
 * trailing slash). A file whose size and modification time match, or with `checksum` whose
 * SHA-256 matches, is left alone; any other is sent, each checked end to end and given its
 * name only once whole (the tree stream's per-file commit), and keeps the source's time.
 * With `delete`, what the destination holds and the source does not is removed afterwards,
 * and only if every file arrived: never the destination's root, never through a link (a
 * link is removed as itself). Links and special files in the source are skipped with a
 * warning, as `get -r`/`put -r` skip them. With `dryRun`, both trees are read and the
 * changes reported through `onChange` and the result; nothing is written on either side.
 *
 * Both trees are listed first (one LIST per remote folder), so memory grows with the number
 * of entries, bounded by {@link MAX_SYNC_ENTRIES} per side.
 *
 * @example
 * const r = await syncTree(client, "down", "/photos", "photos", { delete: true });
 * console.log(`${r.sent + r.replaced} sent, ${r.deleted} deleted`);
 */
export async function syncTree(
  client: BftpClient,
  direction: SyncDirection,
  remoteDir: string,
  localDir: string,
  options: SyncOptions = {},
): Promise<SyncResult> {
  const remoteRoot = path.posix.resolve(await client.pwd(), remoteDir);
  const remoteTree = await listRemote(client, remoteRoot, direction === "down");
  const localTree = listLocal(localDir, direction === "up");
  const [source, destination] =
    direction === "down" ? [remoteTree, localTree] : [localTree, remoteTree];
  const changes: SyncChange[] = [];
  const change = (c: SyncChange): void => {
    changes.push(c);
    options.onChange?.(c);
  };
  let skipped = 0;
  for (const [rel, node] of source) {
    if (node.type === "other") {
      skipped++;
      options.onWarning?.(`skipped ${escapeControls(rel)}: a link or special file, not copied`);
      continue;
    }
    const there = destination.get(rel);
    if (there === undefined) change({ action: "send", path: rel, type: node.type });
    else if (node.type === "file" && !(await same(rel, node, there))) {
      change({ action: "replace", path: rel, type: "file" });
    }
  }
  const doomed: string[] = [];
  if (options.delete === true) {
    for (const [rel, node] of destination) {
      if (source.has(rel) && source.get(rel)?.type === node.type) continue;
      if (doomed.some((d) => rel.startsWith(`${d}/`))) continue; // inside a folder going anyway
      doomed.push(rel);
      change({ action: "delete", path: rel, type: node.type });
    }
  }
  const files = [...source.values()].filter((n) => n.type === "file").length;
  const planned = changes.filter((c) => c.type === "file" && c.action !== "delete").length;
  if (options.dryRun === true) {
    return {
      sent: changes.filter((c) => c.action === "send" && c.type === "file").length,
      replaced: changes.filter((c) => c.action === "replace").length,
      unchanged: files - planned,
      deleted: doomed.length,
      bytes: 0,
      failed: [],
      skipped,
      changes,
    };
  }

  const moved =
    direction === "down"
      ? await pull(client, remoteRoot, localDir, options)
      : await push(client, localDir, remoteRoot, options);
  const transferred = moved.files.filter((f) => f.held !== true);
  const existed = (remote: string): boolean =>
    destination.get(path.posix.relative(remoteRoot, remote))?.type === "file";
  const replaced = transferred.filter((f) => existed(f.path)).length;
  let deleted = 0;
  if (moved.failed.length === 0 && doomed.length > 0) {
    const written = new Set(transferred.map((f) => path.posix.relative(remoteRoot, f.path)));
    for (const rel of doomed) {
      if (written.has(rel)) continue; // appeared in the source meanwhile, and was just sent
      await (direction === "down"
        ? removeLocal(path.join(localDir, ...rel.split("/")))
        : removeRemote(client, path.posix.join(remoteRoot, rel)));
      deleted++;
    }
  }
  return {
    sent: transferred.length - replaced,
    replaced,
    unchanged: moved.files.length - transferred.length,
    deleted,
    bytes: transferred.reduce((sum, f) => sum + f.bytes, 0),
    failed: moved.failed,
    skipped: skipped + moved.skipped,
    changes,
  };

  /** Whether the destination's `there` is the source's file `rel` already. */
  async function same(rel: string, node: Node, there: Node): Promise<boolean> {
    if (there.type !== "file" || there.size !== node.size) return false;
    if (options.checksum !== true) return there.mtime === node.mtime;
    const remote = path.posix.join(remoteRoot, rel);
    const local = path.join(localDir, ...rel.split("/"));
    const [theirs, ours] = await Promise.all([client.hash(remote), localSha256(local)]);
    return theirs === ours;
  }
}

/** The files that go down: one GETTREE naming every local file, or one GET each. */
async function pull(
  client: BftpClient,
  remoteRoot: string,
  localDir: string,
  options: SyncOptions,
): Promise<{ files: TransferResult[]; failed: SyncResult["failed"]; skipped: number }> {
  const common = {
    overwrite: true,
    ...pick(options),
  };
  if (options.perFile !== true && client.offers("tree")) {
    return downloadTreeStream(client, remoteRoot, localDir, {
      ...common,
      compare: options.checksum === true ? "sha256" : "size-mtime",
    });
  }
  // A server without the tree stream: the plan, again, file by file.
  const plan = await syncTree(client, "down", remoteRoot, localDir, { ...options, dryRun: true });
  return perFile(plan, async (rel) => {
    const local = path.join(localDir, ...rel.split("/"));
    fs.mkdirSync(path.dirname(local), { recursive: true });
    return client.download(path.posix.join(remoteRoot, rel), local, {
      ...common,
      preserveTime: true,
    });
  });
}

/** The files that go up: one PUTTREE offering every local file, or one PUT each. */
async function push(
  client: BftpClient,
  localDir: string,
  remoteRoot: string,
  options: SyncOptions,
): Promise<{ files: TransferResult[]; failed: SyncResult["failed"]; skipped: number }> {
  await client.mkdir(remoteRoot, { parents: true });
  const common = { overwrite: true, ...pick(options) };
  if (options.perFile !== true && client.offers("puttree") && client.offers("puttree-offer")) {
    return uploadTreeStream(client, localDir, remoteRoot, {
      ...common,
      compare: options.checksum === true ? "sha256" : "size-mtime",
    });
  }
  const plan = await syncTree(client, "up", remoteRoot, localDir, { ...options, dryRun: true });
  return perFile(plan, async (rel) => {
    const remote = path.posix.join(remoteRoot, rel);
    await client.mkdir(path.posix.dirname(remote), { parents: true });
    return client.upload(path.join(localDir, ...rel.split("/")), remote, common);
  });
}

function pick(options: SyncOptions): {
  onWarning?: (message: string) => void;
  onFile?: (result: TransferResult) => void;
  onProgress?: ProgressHandler;
} {
  return {
    ...(options.onWarning === undefined ? {} : { onWarning: options.onWarning }),
    ...(options.onFile === undefined ? {} : { onFile: options.onFile }),
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
  };
}

/** The planned files, one transfer each, a failure recorded and the next one tried. */
async function perFile(
  plan: SyncResult,
  move: (rel: string) => Promise<TransferResult>,
): Promise<{ files: TransferResult[]; failed: SyncResult["failed"]; skipped: number }> {
  const files: TransferResult[] = [];
  const failed: { path: string; error: BftpError }[] = [];
  for (const c of plan.changes) {
    if (c.type !== "file" || c.action === "delete") continue;
    try {
      files.push(await move(c.path));
    } catch (err) {
      if (!isBftpError(err) || err.connectionUsable !== true) throw err;
      failed.push({ path: c.path, error: err });
    }
  }
  return { files, failed, skipped: 0 };
}

/**
 * Every entry below the remote folder `root`, by relative path, one LIST per folder. A
 * missing root is an empty tree when it is the destination (`isSource` false): the sync
 * creates it.
 */
async function listRemote(client: BftpClient, root: string, isSource: boolean): Promise<Tree> {
  const tree: Tree = new Map();
  const walk = async (dir: string, rel: string): Promise<void> => {
    for (const entry of await client.list(dir)) {
      if (!isLocalName(entry.name)) continue; // never a name that could leave the folder
      const childRel = rel === "" ? entry.name : `${rel}/${entry.name}`;
      if (!isRecordPath(childRel)) continue;
      if (tree.size >= MAX_SYNC_ENTRIES) throw tooMany(root);
      const type = entry.type === "file" || entry.type === "dir" ? entry.type : "other";
      tree.set(childRel, { type, size: entry.size, mtime: entry.mtime });
      if (type === "dir") await walk(path.posix.join(dir, entry.name), childRel);
    }
  };
  try {
    await walk(root, "");
  } catch (err) {
    if (!isSource && isBftpError(err, "BFTP_ERR_NOT_FOUND") && tree.size === 0) return tree;
    throw err;
  }
  return tree;
}

/**
 * Every entry below the local folder `root`, by relative path, links never followed (a link
 * is an "other"). A missing root is an empty tree when it is the destination.
 */
function listLocal(root: string, isSource: boolean): Tree {
  const tree: Tree = new Map();
  const walk = (dir: string, rel: string): void => {
    let names: fs.Dirent[];
    try {
      names = fs.readdirSync(dir, { withFileTypes: true });
    } catch (err) {
      if (rel === "" && !isSource && (err as { code?: unknown }).code === "ENOENT") return;
      throw new BftpError(
        "BFTP_ERR_LOCAL_FILE",
        `Cannot list ${JSON.stringify(dir)}: ${localReason(err)}`,
        { cause: err },
      );
    }
    for (const entry of names) {
      const childRel = rel === "" ? entry.name : `${rel}/${entry.name}`;
      if (!isRecordPath(childRel)) continue;
      if (tree.size >= MAX_SYNC_ENTRIES) throw tooMany(root);
      const child = path.join(dir, entry.name);
      const stats = fs.lstatSync(child, { bigint: true, throwIfNoEntry: false });
      if (stats === undefined) continue; // gone meanwhile
      const type = stats.isFile() ? "file" : stats.isDirectory() ? "dir" : "other";
      // Whole milliseconds, as the tree stream's records carry them.
      tree.set(childRel, {
        type,
        size: Number(stats.size),
        mtime: Number(stats.mtimeNs / 1_000_000n),
      });
      if (type === "dir") walk(child, childRel);
    }
  };
  walk(root, "");
  return tree;
}

function localSha256(file: string): Promise<string> {
  return Promise.resolve(sha256OfFile(file).sha256);
}

/** Removes a local file, link or folder (with what is in it), never following a link. */
async function removeLocal(target: string): Promise<void> {
  await fs.promises.rm(target, { recursive: true, force: true });
}

/** Removes a remote file or folder (with what is in it). */
async function removeRemote(client: BftpClient, target: string): Promise<void> {
  const entry = await client.stat(target).catch(() => undefined);
  if (entry === undefined) return; // gone already
  if (entry.type === "dir") await removeTree(client, target);
  else await client.delete(target);
}

function tooMany(root: string): BftpError {
  return new BftpError(
    "BFTP_ERR_INVALID_ARGUMENT",
    `Cannot sync ${JSON.stringify(root)}: it holds more than ${MAX_SYNC_ENTRIES} entries; sync its folders one at a time`,
  );
}
