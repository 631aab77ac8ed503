import { BftpError, isBftpError, RemoteError } from "../errors.js";

/**
 * The same failure, typed as leaving the connection usable (`connectionUsable: true`): for an
 * error raised before anything was sent, or after the data phase was read to its end. The
 * connection does not close for it. A {@link RemoteError} stays one (the peer said no); a
 * failure that is not a BftpError (a local fs error) becomes `BFTP_ERR_LOCAL_FILE` saying
 * `fallback` and a short reason.
 */
export function inStep(err: unknown, fallback: string): BftpError {
  if (isBftpError(err)) {
    if (err.connectionUsable === true) return err;
    const options = { cause: err.cause ?? err, details: err.details };
    return err instanceof RemoteError
      ? new RemoteError(err.code, err.message, options)
      : new BftpError(err.code, err.message, { ...options, connectionUsable: true });
  }
  return new BftpError("BFTP_ERR_LOCAL_FILE", `${fallback}: ${localReason(err)}`, {
    cause: err,
    connectionUsable: true,
  });
}

/** A short reason for a local fs error, without the system's full message. */
export function localReason(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  switch (code) {
    case "ENOENT":
      return "no such file or directory";
    case "EEXIST":
      return "it exists";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EISDIR":
      return "it is a directory";
    case "ENOTDIR":
      return "not a directory";
    case "ENOSPC":
      return "no space left on the local disk";
    case "EDQUOT":
      return "over the disk quota";
    case "EROFS":
      return "read-only file system";
    case "ELOOP":
      return "too many levels of links";
    case "ENAMETOOLONG":
      return "name too long";
    case "EMFILE":
    case "ENFILE":
      return "too many open files";
    case "EIO":
      return "input/output error on the local disk";
    default:
      return typeof code === "string" ? code : String(err);
  }
}
