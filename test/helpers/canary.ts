import fs from "node:fs/promises";
import path from "node:path";

/**
 * Whether reads move atime on the file system holding `dir` (mount options such as noatime
 * turn it off): a canary's atime only proves "never read" where reads would have moved it.
 */
export async function probeAtime(dir: string): Promise<boolean> {
  const probe = path.join(dir, "atime-probe");
  await fs.writeFile(probe, "probe");
  await fs.utimes(probe, new Date("2020-01-01"), new Date());
  const before = (await fs.stat(probe)).atimeMs;
  await fs.readFile(probe);
  const moved = (await fs.stat(probe)).atimeMs !== before;
  await fs.rm(probe);
  return moved;
}

/** Reads a file without moving its atime (O_NOATIME: we own it), so checking is not reading. */
export async function readWithoutAtime(file: string): Promise<string> {
  // Linux only: undefined elsewhere, whatever the type says (atime is then not checked).
  const noAtime = (fs.constants as { O_NOATIME?: number }).O_NOATIME;
  const handle = await fs.open(file, fs.constants.O_RDONLY | (noAtime ?? 0));
  try {
    return await handle.readFile("utf8");
  } finally {
    await handle.close();
  }
}
