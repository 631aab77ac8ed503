import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { nodeCrypto } from "./node-crypto.js";

/**
 * Where bftp keeps its state: the server's users file, certificate and key, and the client's
 * pinned fingerprints (`known_hosts`). `override` (`--config-dir`) wins; else
 * `$XDG_CONFIG_HOME/bftp`; else `~/.config/bftp` (the XDG Base Directory default).
 */
export function configDir(override?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (override !== undefined) return path.resolve(override);
  const config = env["XDG_CONFIG_HOME"];
  // The specification says a relative value is invalid and must be ignored.
  const base =
    config !== undefined && path.isAbsolute(config) ? config : path.join(os.homedir(), ".config");
  return path.join(base, "bftp");
}

/**
 * Writes a file only its owner may read (mode 0600), atomically: the bytes go to a temporary
 * file beside it, are flushed to disk, then renamed over `file`, so a reader sees the old
 * content or the new, never a part. The folder is created (mode 0700) when missing.
 */
export async function writePrivateFile(file: string, data: string | Uint8Array): Promise<void> {
  const dir = path.dirname(file);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const temp = path.join(
    dir,
    `.${path.basename(file)}.${nodeCrypto().randomBytes(6).toString("hex")}.tmp`,
  );
  const handle = await fs.open(temp, "wx", 0o600);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await fs.rm(temp, { force: true });
    throw err;
  }
  await handle.close();
  try {
    await fs.rename(temp, file);
  } catch (err) {
    await fs.rm(temp, { force: true });
    throw err;
  }
}
