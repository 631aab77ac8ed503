import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { TEMP_PREFIX } from "./sandbox.js";
import type { Logger } from "./logger.js";

/** Temporary upload files: one per PUT, removed if the upload is not committed. */
const PART = `${TEMP_PREFIX}part-`;
/** Partial uploads kept for resume (PUT with `resumable`), one per user and path. */
const RESUMABLE = `${TEMP_PREFIX}resume-`;

/** A fresh temporary file name, for the target's own directory (so the commit is one rename). */
export function tempName(): string {
  return `${PART}${randomBytes(8).toString("hex")}`;
}

/** The name of the partial upload that `user` resumes for the virtual path `virtual`. */
export function resumableName(user: string, virtual: string): string {
  return `${RESUMABLE}${createHash("sha256").update(`${user}\0${virtual}`).digest("hex").slice(0, 32)}`;
}

/**
 * Removes what earlier runs left behind: every plain temporary file (no upload is running
 * yet at start-up), and partial uploads older than `partialTtlMs`. Walks the tree without
 * following links and returns how many files it removed.
 */
export async function sweepTempFiles(
  root: string,
  partialTtlMs: number,
  log: Logger,
): Promise<number> {
  let removed = 0;
  const now = Date.now();
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
        await walk(full);
      } else if (entry.name.startsWith(PART) || entry.name.startsWith(RESUMABLE)) {
        const stale =
          entry.name.startsWith(PART) ||
          (await fs.lstat(full).then(
            (s) => now - s.mtimeMs > partialTtlMs,
            () => false,
          ));
        if (stale) {
          await fs.rm(full, { force: true });
          removed++;
        }
      }
    }
  };
  await walk(root);
  if (removed > 0) log.info("swept-temp-files", { removed });
  return removed;
}
