/**
 * The single catalogue of bftp error codes.
 *
 * A code is permanent: programs and tests branch on it. The message may change. Every
 * failure bftp reports is a {@link BftpError} carrying one of these codes, the first reason
 * (`cause`) when it wraps another error, and machine-readable `details` (byte counts,
 * limits) so callers never parse message text. Whether the connection survives the error is
 * part of its type: a {@link RemoteError} is the peer's refusal, and `connectionUsable` says
 * whether the connection can carry the next request.
 */

/** One catalogue entry: what the code means and, for codes that cross the wire, the status. */
export interface ErrorCodeInfo {
  /** One line for docs/errors.md's table and PROTOCOL.md §5.3. */
  readonly meaning: string;
  /** The HTTP-like class sent with the code on the wire (PROTOCOL.md §5.1); local-only codes have none. */
  readonly status?: number;
}

/** Every code, with its meaning; docs/errors.md's error table is checked against this list. */
export const ERROR_CODES = {
  // Local: raised by the library on this side of the connection.
  BFTP_ERR_INVALID_ARGUMENT: { meaning: "A function was called with an argument it cannot accept" },
  BFTP_ERR_CONNECTION_LOST: {
    meaning:
      "The stream closed or failed before the operation completed (reset, destroyed, errored)",
  },
  BFTP_ERR_CONNECTION_REFUSED: {
    meaning: "Nothing is listening at that address, or the host name does not resolve",
  },
  BFTP_ERR_PEER_CLOSED: { meaning: "The peer ended the stream cleanly before a new message began" },
  BFTP_ERR_UNEXPECTED_EOF: {
    meaning:
      "The peer ended the stream in the middle of a message; details say how many bytes arrived of how many expected",
  },
  BFTP_ERR_MESSAGE_TOO_LONG: {
    meaning: "A delimited message, record or read-to-end body exceeded its hard maximum",
  },
  BFTP_ERR_BAD_UTF8: { meaning: "Bytes that must be UTF-8 text were not valid UTF-8" },
  BFTP_ERR_ABORTED: { meaning: "The operation was cancelled through its AbortSignal" },
  BFTP_ERR_PROTOCOL: {
    meaning:
      "The peer broke the protocol: a malformed or unexpected message (the connection is closed)",
  },
  BFTP_ERR_UNSAFE_NAME: {
    meaning: "A name from the server would write outside the local target folder; refused",
  },
  BFTP_ERR_LOCAL_FILE: {
    meaning:
      "A local file could not be read or written (missing, exists, no permission, disk full)",
  },
  BFTP_ERR_UNSAFE_LISTEN: {
    meaning:
      "bftp serve: listening beyond loopback without accounts and TLS was refused (--insecure overrides)",
  },
  BFTP_ERR_VERIFY_FAILED: {
    meaning:
      "`bftp bench`: a download did not match the bytes uploaded (or failed its transfer check)",
  },
  BFTP_ERR_READ_PENDING: {
    meaning: "A read was started while another read on the same reader had not finished",
  },
  BFTP_ERR_TLS_HANDSHAKE: {
    meaning:
      "The TLS handshake failed: the server does not speak TLS on that port, or offers no version (1.2 or later) or cipher in common",
  },
  BFTP_ERR_HOST_UNKNOWN: {
    meaning:
      "The server's certificate is not pinned in known_hosts and was not accepted (no --accept-new, no answer yes)",
  },
  BFTP_ERR_HOST_KEY_CHANGED: {
    meaning:
      "The server's certificate differs from the one pinned for it: refused, even with --accept-new; the message names the known_hosts line to delete if the change is expected",
  },
  BFTP_ERR_ADDRESS_IN_USE: {
    meaning: "The address and port to listen on are taken by another program",
  },
  BFTP_ERR_NO_MATCH: {
    meaning:
      "A remote glob (`*`, `?`, `[...]`, `**`) matched no file or folder (as sftp says: no match)",
  },
  BFTP_ERR_TOO_MANY_ENTRIES: {
    meaning:
      "A remote glob listed more entries than its bound (100,000) while it looked for matches",
  },
  BFTP_ERR_UNKNOWN_REMOTE: {
    meaning:
      "A NAME:PATH location names no remote of the client configuration file (the message names the file)",
  },
  BFTP_ERR_INSECURE_FILE: {
    meaning:
      "A file holding passwords (credentials, netrc) is readable by group or others: refused, as ssh does; chmod 600 it",
  },
  // Wire: sent by a server in error replies (PROTOCOL.md §5.3), and raised locally where they fit.
  BFTP_ERR_BAD_REQUEST: {
    status: 400,
    meaning:
      "The request is not a JSON object, lacks a field, or has a field of the wrong type or an unknown field",
  },
  BFTP_ERR_UNKNOWN_COMMAND: { status: 400, meaning: "The request names no command of this server" },
  BFTP_ERR_UNSUPPORTED_VERSION: {
    status: 400,
    meaning: "HELLO offered no version the server speaks",
  },
  BFTP_ERR_BAD_FRAME_HEADER: {
    status: 400,
    meaning: "A size header was not exactly 8 digits of the expected base",
  },
  BFTP_ERR_FRAME_TOO_LARGE: {
    status: 413,
    meaning:
      "A size header announced more bytes than the receiver's limit; refused before any payload was buffered",
  },
  BFTP_ERR_NOT_AUTHENTICATED: { status: 401, meaning: "The command needs a logged-in session" },
  BFTP_ERR_LOGIN_FAILED: {
    status: 401,
    meaning:
      "LOGIN named an unknown user or a wrong password (or anonymous access is off); the third failure closes the connection",
  },
  BFTP_ERR_PATH_REFUSED: {
    status: 403,
    meaning: "The path is malformed, names a reserved temporary file, or leads outside the root",
  },
  BFTP_ERR_FORBIDDEN: {
    status: 403,
    meaning:
      "The logged-in user lacks the permission the command needs (read, write, delete, mkdir)",
  },
  BFTP_ERR_PATH_TOO_LONG: {
    status: 403,
    meaning:
      "The path is within the protocol's limits, but the server's file system cannot name it: the served root joined with it is longer than the system allows (4,095 bytes on Linux), or a name is too long for that file system",
  },
  BFTP_ERR_PERMISSION_DENIED: { status: 403, meaning: "The file system refused the operation" },
  BFTP_ERR_NOT_FOUND: { status: 404, meaning: "No such file or directory" },
  BFTP_ERR_EXISTS: { status: 409, meaning: "The target exists and overwrite was not asked for" },
  BFTP_ERR_NOT_A_DIRECTORY: { status: 409, meaning: "A directory was expected" },
  BFTP_ERR_IS_A_DIRECTORY: { status: 409, meaning: "A file was expected" },
  BFTP_ERR_NOT_EMPTY: { status: 409, meaning: "RMDIR of a directory that is not empty" },
  BFTP_ERR_FILE_CHANGED: {
    status: 409,
    meaning:
      "The file changed while it was read (rewritten, truncated, appended), or is no longer the version a GET's ifVersion names; nothing torn was delivered: try again",
  },
  BFTP_ERR_BAD_RANGE: {
    status: 416,
    meaning:
      "An offset or length outside the file, or a number there that is not an integer from 0 to 2^53 - 1",
  },
  BFTP_ERR_CHECKSUM_MISMATCH: {
    status: 422,
    meaning: "The receiver's checksum differs from the sender's; nothing was committed",
  },
  BFTP_ERR_SIZE_MISMATCH: {
    status: 422,
    meaning: "A data phase carried a different number of bytes than announced",
  },
  BFTP_ERR_TRANSFER_ABORTED: { status: 422, meaning: "The sender aborted the data phase" },
  BFTP_ERR_NO_SPACE: { status: 507, meaning: "The disk is full or a quota was reached" },
  BFTP_ERR_TIMEOUT: { status: 408, meaning: "The operation did not complete before its deadline" },
  BFTP_ERR_BUSY: {
    status: 503,
    meaning:
      "Too many connections, overall or from this address (fatal); or, not fatal (try again), too many logins being checked at once, or the server out of file descriptors",
  },
  BFTP_ERR_SHUTTING_DOWN: { status: 503, meaning: "The server is stopping" },
  BFTP_ERR_NOT_SUPPORTED: {
    status: 501,
    meaning:
      "The server's storage cannot do this safely: on an object store, renaming a folder, links, rewriting part of a file",
  },
  BFTP_ERR_STORAGE: {
    status: 502,
    meaning:
      "The server's storage (an object store) failed or could not be reached; nothing was committed; try again",
  },
  BFTP_ERR_INTERNAL: {
    status: 500,
    meaning: "An unexpected failure; the server logged the details",
  },
} as const satisfies Record<string, ErrorCodeInfo>;

/** A stable bftp error code. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Facts about a failure, for programs (never parse the message). */
export type ErrorDetails = Readonly<Record<string, string | number | boolean | null>>;

/** Options for {@link BftpError}. */
export interface BftpErrorOptions {
  /** The error this one wraps; kept as the first reason. */
  readonly cause?: unknown;
  /** Machine-readable facts, e.g. `{ received: 3, expected: 8 }`. */
  readonly details?: ErrorDetails;
  /**
   * Whether the connection the error arose on can carry the next request (see
   * {@link BftpError.connectionUsable}). Leave it out when the error does not know.
   */
  readonly connectionUsable?: boolean;
}

/**
 * The one error class bftp throws (a {@link RemoteError} when the peer said no). Branch on
 * `code`, never on `message`.
 *
 * @example
 * try { await reader.readFrame() }
 * catch (err) { if (isBftpError(err, "BFTP_ERR_PEER_CLOSED")) return; throw err }
 */
export class BftpError extends Error {
  override readonly name = "BftpError";
  readonly code: ErrorCode;
  readonly details: ErrorDetails;
  /**
   * Whether the connection the error arose on can carry the next request: `true` for a
   * refusal raised before anything was sent or after the stream was brought back in step (a
   * data phase read to its end), and for a remote error without `close` (PROTOCOL.md §5.2);
   * `false` for an error that ends the connection. `undefined` when the error does not say:
   * then its code decides, as the side handling it knows (a client closes the connection for
   * any local error; a server answers a code with a wire status and goes on).
   */
  readonly connectionUsable: boolean | undefined;

  constructor(code: ErrorCode, message: string, options: BftpErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
    this.connectionUsable = options.connectionUsable;
  }

  /** The wire status of this code (PROTOCOL.md §5.1), or undefined for a local-only code. */
  get status(): number | undefined {
    const info: ErrorCodeInfo = ERROR_CODES[this.code];
    return info.status;
  }

  /** True when the peer said no (a {@link RemoteError}); false for a failure on this side. */
  get remote(): boolean {
    return false;
  }
}

/** Options for {@link RemoteError}. */
export interface RemoteErrorOptions {
  readonly cause?: unknown;
  readonly details?: ErrorDetails;
  /** The reply said `"close": true`: the server closes the connection after it. */
  readonly close?: boolean;
}

/**
 * The peer said no: an error reply or an error trailer (PROTOCOL.md §5), as basic-ftp's
 * `FTPError` is the server's answer rather than a failure of the connection. The connection
 * stays usable unless the reply said `"close": true` (PROTOCOL.md §5.2).
 *
 * @example
 * try { await client.stat("/a.txt") }
 * catch (err) { if (err instanceof RemoteError && err.code === "BFTP_ERR_NOT_FOUND") return; throw err }
 */
export class RemoteError extends BftpError {
  /** The reply said `"close": true`: the server closes the connection after it. */
  readonly close: boolean;

  constructor(code: ErrorCode, message: string, options: RemoteErrorOptions = {}) {
    const close = options.close ?? false;
    super(code, message, {
      ...(options.cause === undefined ? {} : { cause: options.cause }),
      ...(options.details === undefined ? {} : { details: options.details }),
      connectionUsable: !close,
    });
    this.close = close;
  }

  override get remote(): boolean {
    return true;
  }
}

/** True when `err` is a {@link BftpError}, and when `code` is given, one with that code. */
export function isBftpError(err: unknown, code?: ErrorCode): err is BftpError {
  return err instanceof BftpError && (code === undefined || err.code === code);
}
