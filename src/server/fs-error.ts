import { BftpError, type ErrorCode } from "../errors.js";

const BY_ERRNO: Readonly<Record<string, readonly [ErrorCode, string]>> = {
  ENOENT: ["BFTP_ERR_NOT_FOUND", "no such file or directory"],
  EEXIST: ["BFTP_ERR_EXISTS", "it exists"],
  ENOTDIR: ["BFTP_ERR_NOT_A_DIRECTORY", "not a directory"],
  EISDIR: ["BFTP_ERR_IS_A_DIRECTORY", "it is a directory"],
  ENOTEMPTY: ["BFTP_ERR_NOT_EMPTY", "the directory is not empty"],
  EACCES: ["BFTP_ERR_PERMISSION_DENIED", "permission denied"],
  EPERM: ["BFTP_ERR_PERMISSION_DENIED", "operation not permitted"],
  EROFS: ["BFTP_ERR_PERMISSION_DENIED", "read-only file system"],
  ENOSPC: ["BFTP_ERR_NO_SPACE", "no space left"],
  EDQUOT: ["BFTP_ERR_NO_SPACE", "quota exceeded"],
  EFBIG: ["BFTP_ERR_NO_SPACE", "file too large"],
  ELOOP: ["BFTP_ERR_PATH_REFUSED", "too many symbolic links"],
  ENAMETOOLONG: ["BFTP_ERR_PATH_TOO_LONG", "the path is too long for the server's file system"],
  // Out of descriptors is a moment, not a fault: the client may try again (issue 11, 10c).
  EMFILE: ["BFTP_ERR_BUSY", "the server has too many files open; try again"],
  ENFILE: ["BFTP_ERR_BUSY", "the system has too many files open; try again"],
};

/**
 * Maps a file-system error to the wire code a client may see. The message names only the
 * virtual path and the action, never a real path or the system's own text (STYLE.md: the
 * server never sends an internal message); the original error stays as `cause` for logs.
 *
 * @example
 * catch (err) { throw fsError(err, "open", "/docs/a.txt") } // BFTP_ERR_NOT_FOUND
 */
export function fsError(err: unknown, action: string, virtualPath: string): BftpError {
  if (err instanceof BftpError) return err;
  const errno = (err as { code?: unknown }).code;
  const known = typeof errno === "string" ? BY_ERRNO[errno] : undefined;
  const [code, why] = known ?? ["BFTP_ERR_INTERNAL", "internal error"];
  return new BftpError(code, `Cannot ${action} ${JSON.stringify(virtualPath)}: ${why}`, {
    cause: err,
    details: { path: virtualPath },
  });
}
