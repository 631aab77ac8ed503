import { BftpError, isBftpError } from "../errors.js";

/**
 * Marks an error as leaving the connection usable: raised before anything was sent, or after
 * the data phase was read to its end. The connection does not close for it.
 */
export function inStep(err: unknown, fallback: string): BftpError {
  if (isBftpError(err)) {
    return new BftpError(err.code, err.message, {
      cause: err.cause ?? err,
      details: { ...err.details, inStep: true },
    });
  }
  return new BftpError("BFTP_ERR_LOCAL_FILE", `${fallback}: ${localReason(err)}`, {
    cause: err,
    details: { inStep: true },
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
    default:
      return typeof code === "string" ? code : String(err);
  }
}
