/**
 * Writing a download so that the target path only ever shows the complete file: the bytes
 * go to a temporary file beside it, which is flushed to disk and renamed over the target
 * only when everything arrived. A failure removes the temporary file instead.
 */
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createWriteStream, rmSync } from "node:fs";
import { rename, rm } from "node:fs/promises";
import path from "node:path";
import type { Writable } from "node:stream";

/**
 * Calls `write` with a stream into a new temporary file in `target`'s folder (same file
 * system, so the rename is atomic); on success flushes it to disk and renames it to `target`,
 * resolving with what `write` returned. On failure, or on SIGINT/SIGTERM, the temporary
 * file is removed and `target` is left as it was.
 *
 * @example
 * const bytes = await saveAtomically("page.html", (file) => reader.streamToEnd(file, { max }));
 */
export async function saveAtomically<T>(
  target: string,
  write: (file: Writable) => Promise<T>,
): Promise<T> {
  const temporary = path.join(
    path.dirname(target),
    `.${path.basename(target)}.${randomBytes(6).toString("hex")}.part`,
  );
  // flush: the file is fsynced before it closes, so it is on disk before the rename shows it.
  const file = createWriteStream(temporary, { flags: "wx", flush: true });
  await once(file, "ready").catch((err: unknown) => {
    throw new Error(`Cannot create a file in ${JSON.stringify(path.dirname(target))}`, {
      cause: err,
    });
  });
  // An interrupted download must not leave its temporary file behind either: remove it
  // (synchronously, the process is about to die), then let the signal do what it does.
  const onSignal = (signal: NodeJS.Signals): void => {
    rmSync(temporary, { force: true });
    process.kill(process.pid, signal);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const result = await write(file); // resolves once the file is flushed and closed
    await rename(temporary, target);
    return result;
  } catch (err) {
    file.destroy();
    await rm(temporary, { force: true });
    throw err;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
