import fs from "node:fs/promises";
import { BftpError } from "../errors.js";
import { inStep } from "./in-step.js";
import { partialPath } from "./partial-name.js";

/**
 * Where a download to a local name goes, decided before the GET (issue 11, item 4):
 * - `file`: a regular file (or nothing yet) at `path`, written to `part` and renamed over
 *   `path` once verified. For a symbolic link to a regular file, `path` is the file the link
 *   resolves to, so the link stays and its target gets the content, as `cp` does; the
 *   partial sits beside the target.
 * - `stream`: a character device or a FIFO (`/dev/null`, `/dev/stdout`, a named pipe), or a
 *   link to one: written into through the name, as `cp` and `curl -o` do, never replaced.
 */
export type LocalDestination =
  | {
      readonly kind: "file";
      readonly path: string;
      readonly part: string;
      readonly exists: boolean;
    }
  | { readonly kind: "stream"; readonly path: string };

/**
 * Resolves a local destination. A dangling link (cp: "not writing through dangling
 * symlink"), a directory, a block device or a socket is refused with `BFTP_ERR_LOCAL_FILE`,
 * marked in step (nothing was sent).
 *
 * @example
 * await localDestination("/dev/null"); // { kind: "stream", path: "/dev/null" }
 */
export async function localDestination(local: string): Promise<LocalDestination> {
  const link = await fs.lstat(local).catch((err: unknown) => {
    if ((err as { code?: unknown }).code === "ENOENT") return undefined;
    throw inStep(err, `Cannot download to ${JSON.stringify(local)}`);
  });
  if (link === undefined)
    return { kind: "file", path: local, part: partialPath(local), exists: false };
  const stats = link.isSymbolicLink()
    ? await fs.stat(local).catch(() => {
        throw refused(local, "it is a link to nothing (not written through)");
      })
    : link;
  if (stats.isCharacterDevice() || stats.isFIFO()) return { kind: "stream", path: local };
  if (stats.isDirectory()) throw refused(local, "it is a directory");
  if (!stats.isFile()) throw refused(local, "not a regular file, a character device or a FIFO");
  const target = link.isSymbolicLink()
    ? await fs.realpath(local).catch((err: unknown) => {
        throw inStep(err, `Cannot resolve the link ${JSON.stringify(local)}`);
      })
    : local;
  return { kind: "file", path: target, part: partialPath(target), exists: true };
}

/**
 * The partial download a download to `local` would use, or undefined when there is none
 * (a device, a refused destination). Never throws.
 */
export async function partialOf(local: string): Promise<string | undefined> {
  const destination = await localDestination(local).catch(() => undefined);
  return destination?.kind === "file" ? destination.part : undefined;
}

function refused(local: string, why: string): BftpError {
  return inStep(
    new BftpError("BFTP_ERR_LOCAL_FILE", `Cannot download to ${JSON.stringify(local)}: ${why}`),
    "Cannot download",
  );
}
