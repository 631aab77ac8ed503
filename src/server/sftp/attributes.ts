import ssh2 from "ssh2";
import { isBftpError, type ErrorCode } from "../../errors.js";
import type { StoredEntry } from "../storage/storage.js";

const { STATUS_CODE } = ssh2.utils.sftp;

/** The file-type bits SFTP version 3 carries in `permissions` (POSIX `st_mode`). */
const TYPE_BITS = { file: 0o100000, dir: 0o040000, symlink: 0o120000, other: 0o010000 } as const;

/** SFTP attributes of an entry: sizes in bytes, times in whole seconds. */
export function toAttributes(entry: StoredEntry): {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  atime: number;
  mtime: number;
} {
  return {
    mode: TYPE_BITS[entry.type] | (entry.mode & 0o7777),
    uid: entry.uid,
    gid: entry.gid,
    size: entry.type === "file" ? entry.size : 0,
    atime: Math.floor(entry.atime / 1000),
    mtime: Math.floor(entry.mtime / 1000),
  };
}

const MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(" ");

/**
 * The `ls -l` line SFTP version 3 sends beside each name (OpenSSH's `sftp` prints it for
 * `ls -l`): type and permission letters, links, owner, group, size, date, name.
 */
export function longName(entry: StoredEntry, owner: string, now = Date.now()): string {
  const mode = toAttributes(entry).mode;
  const type =
    entry.type === "dir" ? "d" : entry.type === "symlink" ? "l" : entry.type === "file" ? "-" : "?";
  let letters = type;
  for (const shift of [6, 3, 0]) {
    const bits = (mode >> shift) & 7;
    letters += `${bits & 4 ? "r" : "-"}${bits & 2 ? "w" : "-"}${bits & 1 ? "x" : "-"}`;
  }
  const date = new Date(entry.mtime);
  const month = MONTHS[date.getUTCMonth()] ?? "???";
  const day = String(date.getUTCDate()).padStart(2, " ");
  // As ls: the time of day for the last six months, else the year.
  const recent = Math.abs(now - entry.mtime) < 183 * 24 * 3600 * 1000;
  const hhmm = `${String(date.getUTCHours()).padStart(2, "0")}:${String(date.getUTCMinutes()).padStart(2, "0")}`;
  const when = recent ? hhmm : ` ${date.getUTCFullYear()}`;
  const size = String(toAttributes(entry).size).padStart(8, " ");
  const user = owner.slice(0, 8).padEnd(8, " ");
  const name = entry.path === "/" ? "/" : (entry.path.split("/").at(-1) ?? "");
  return `${letters}    1 ${user} ${user} ${size} ${month} ${day} ${when} ${name}`;
}

/** SFTP version 3's status codes, by the BFTP code that describes the failure. */
const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  BFTP_ERR_NOT_FOUND: STATUS_CODE.NO_SUCH_FILE,
  BFTP_ERR_PERMISSION_DENIED: STATUS_CODE.PERMISSION_DENIED,
  BFTP_ERR_FORBIDDEN: STATUS_CODE.PERMISSION_DENIED,
  BFTP_ERR_PATH_REFUSED: STATUS_CODE.PERMISSION_DENIED,
  BFTP_ERR_PATH_TOO_LONG: STATUS_CODE.PERMISSION_DENIED,
  BFTP_ERR_BAD_REQUEST: STATUS_CODE.BAD_MESSAGE,
  // What an object store cannot do (renaming a folder, links): "Operation unsupported".
  BFTP_ERR_NOT_SUPPORTED: STATUS_CODE.OP_UNSUPPORTED,
};

/** A failure as an SFTP status: the code, and a message that starts with the stable BFTP code. */
export function toStatus(err: unknown): { code: number; message: string } {
  if (!isBftpError(err))
    return { code: STATUS_CODE.FAILURE, message: "BFTP_ERR_INTERNAL: internal error" };
  const code = err.code === "BFTP_ERR_INTERNAL" ? undefined : STATUS_BY_CODE[err.code];
  const message = err.code === "BFTP_ERR_INTERNAL" ? "internal error" : err.message;
  return { code: code ?? STATUS_CODE.FAILURE, message: `${err.code}: ${message}` };
}
