import type { Stats } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { localReason } from "../../client/in-step.js";
import { BftpError, isBftpError } from "../../errors.js";

/** `~` and `~/…` name the home folder (the shell has no other expansion). */
export function expandHome(local: string): string {
  if (local === "~") return os.homedir();
  if (local.startsWith("~/")) return path.join(os.homedir(), local.slice(2));
  return local;
}

/** A local file problem as `BFTP_ERR_LOCAL_FILE`: `Cannot list "x": no such file or directory`. */
export function localError(err: unknown, what: string): BftpError {
  if (isBftpError(err)) return err;
  return new BftpError("BFTP_ERR_LOCAL_FILE", `${what}: ${localReason(err)}`, { cause: err });
}

/** A usage error: the command cannot run as written. */
export function usage(message: string): BftpError {
  return new BftpError("BFTP_ERR_INVALID_ARGUMENT", message);
}

/** The local entry's stats, or undefined when nothing is there. */
export async function localStat(file: string): Promise<Stats | undefined> {
  try {
    return await fs.stat(file);
  } catch (err) {
    if ((err as { code?: unknown }).code === "ENOENT") return undefined;
    throw localError(err, `Cannot look at ${JSON.stringify(file)}`);
  }
}
