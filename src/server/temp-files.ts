import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { TEMP_PREFIX } from "./sandbox.js";
import type { Logger } from "./logger.js";

/**
 * The names of upload files inside a staging folder (upload-staging.ts), outside the served
 * tree (issue 11, item 3), and the start-up sweep that cleans up after earlier runs.
 *
 * - `part-<random>`: a plain PUT's bytes; removed unless committed.
 * - `upload-<key>-<random>`: a resumable PUT in progress (fresh, or a partial it claimed);
 *   published as `resume-<key>` if the upload fails or is cut.
 * - `resume-<key>`: the partial upload kept for RESUME (PROTOCOL.md §10), one per key.
 *
 * Every upload writes its own uniquely named file, so two uploads to one path never share
 * bytes (issue 11, item 2); `<key>` ties a partial to its user and path.
 */
const PART = "part-";
const UPLOAD = "upload-";
const RESUME = "resume-";
/** Hex digits of a key. */
const KEY_LENGTH = 32;

/**
 * The staging folder kept at the top of a root when the shared one cannot be used for it
 * (another file system): hidden from LIST and refused as a name, like every `.bftp-` name.
 */
export const ROOT_STAGING = `${TEMP_PREFIX}uploads`;

/** Old layout (before issue 11): temporary files beside the target, in the served tree. */
const LEGACY_PART = `${TEMP_PREFIX}part-`;
const LEGACY_RESUME = `${TEMP_PREFIX}resume-`;

/** The key of the partial upload `user` keeps for `virtual` in the root `root` (real path). */
export function partialKey(user: string, root: string, virtual: string): string {
  return createHash("sha256")
    .update(`${user}\0${root}\0${virtual}`)
    .digest("hex")
    .slice(0, KEY_LENGTH);
}

/** A fresh name for a plain PUT's bytes. */
export function partName(): string {
  return `${PART}${randomBytes(8).toString("hex")}`;
}

/** A fresh name for a resumable PUT's bytes (a new upload, or a claimed partial). */
export function uploadName(key: string): string {
  return `${UPLOAD}${key}-${randomBytes(8).toString("hex")}`;
}

/** The name under which the partial upload of `key` is kept for RESUME. */
export function resumeName(key: string): string {
  return `${RESUME}${key}`;
}

/**
 * Cleans one staging folder at start-up, when no upload runs yet: removes every plain upload
 * file; of the resumable ones (kept partials, and uploads cut by a server that died), keeps for
 * each key the most recent one not older than `ttlMs` as its partial and removes the rest.
 * Returns how many files it removed. A folder that does not exist is clean.
 */
async function sweepStaging(dir: string, ttlMs: number): Promise<number> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  const remove = async (name: string): Promise<void> => {
    await fs.rm(path.join(dir, name), { force: true });
    removed++;
  };
  const byKey = new Map<string, { name: string; mtimeMs: number }[]>();
  for (const name of names) {
    if (name.startsWith(PART)) {
      await remove(name);
      continue;
    }
    const key = name.startsWith(UPLOAD)
      ? name.slice(UPLOAD.length, UPLOAD.length + KEY_LENGTH)
      : name.startsWith(RESUME)
        ? name.slice(RESUME.length)
        : undefined;
    if (key === undefined) continue; // not ours
    const stats = await fs.lstat(path.join(dir, name)).catch(() => undefined);
    if (stats?.isFile() !== true) continue;
    const group = byKey.get(key) ?? [];
    group.push({ name, mtimeMs: stats.mtimeMs });
    byKey.set(key, group);
  }
  const now = Date.now();
  for (const [key, group] of byKey) {
    group.sort((a, b) => b.mtimeMs - a.mtimeMs); // newest first
    const [newest, ...older] = group;
    for (const { name } of older) await remove(name);
    if (newest === undefined) continue;
    if (now - newest.mtimeMs > ttlMs) await remove(newest.name);
    else if (newest.name !== resumeName(key)) {
      await fs.rename(path.join(dir, newest.name), path.join(dir, resumeName(key)));
    }
  }
  return removed;
}

/**
 * Removes what earlier runs left in the served tree: staging folders kept at the top of a
 * root are swept (sweepStaging), and temporary files of the old layout, which lay among the
 * user's files, are removed whatever their age. Walks without following links; returns how
 * many files it removed.
 */
async function sweepTree(root: string, ttlMs: number): Promise<number> {
  let removed = 0;
  const walk = async (dir: string): Promise<void> => {
    let handle;
    try {
      handle = await fs.opendir(dir);
    } catch {
      return; // vanished or unreadable: nothing of ours can be swept there
    }
    for await (const entry of handle) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name === ROOT_STAGING) removed += await sweepStaging(full, ttlMs);
        else await walk(full);
      } else if (entry.name.startsWith(LEGACY_PART) || entry.name.startsWith(LEGACY_RESUME)) {
        await fs.rm(full, { force: true });
        removed++;
      }
    }
  };
  await walk(root);
  return removed;
}

/** Options for {@link sweepUploads}. */
export interface SweepOptions {
  /** The server's root (real path). */
  readonly root: string;
  /** The server's own staging folder (UploadStaging.folder). */
  readonly staging: string;
  /** How long a partial upload is kept (limits.partialTtlMs). */
  readonly ttlMs: number;
  readonly log: Logger;
}

/**
 * The start-up sweep: the server's staging folder and the served tree. Run it once, before
 * any upload can start (with `--workers`, in the primary before it forks), since it removes
 * upload files it takes to be left over.
 */
export async function sweepUploads(options: SweepOptions): Promise<number> {
  const removed =
    (await sweepStaging(options.staging, options.ttlMs)) +
    (await sweepTree(options.root, options.ttlMs));
  if (removed > 0) options.log.info("swept-temp-files", { removed });
  return removed;
}
