/**
 * The single catalogue of bftp error codes.
 *
 * A code is permanent: programs and tests branch on it. The message may change. Every
 * failure bftp reports is a {@link BftpError} carrying one of these codes, the first reason
 * (`cause`) when it wraps another error, and machine-readable `details` (byte counts,
 * limits) so callers never parse message text.
 */

/** What each code means; the README's error table is generated from the same words. */
export const ERROR_CODES = {
  BFTP_ERR_INVALID_ARGUMENT: "A function was called with an argument it cannot accept",
  BFTP_ERR_CONNECTION_LOST:
    "The stream closed or failed before the operation completed (reset, destroyed, errored)",
  BFTP_ERR_PEER_CLOSED: "The peer ended the stream cleanly before a new message began",
  BFTP_ERR_UNEXPECTED_EOF:
    "The peer ended the stream in the middle of a message; details say how many bytes arrived of how many expected",
  BFTP_ERR_FRAME_TOO_LARGE:
    "A size header announced more bytes than the receiver's limit; refused before any payload was buffered",
  BFTP_ERR_BAD_FRAME_HEADER: "A size header was not exactly 8 digits of the expected base",
  BFTP_ERR_MESSAGE_TOO_LONG:
    "A delimited message, record or read-to-end body exceeded its hard maximum",
  BFTP_ERR_BAD_UTF8: "Bytes that must be UTF-8 text were not valid UTF-8",
  BFTP_ERR_ABORTED: "The operation was cancelled through its AbortSignal",
  BFTP_ERR_TIMEOUT: "The operation did not complete before its deadline",
  BFTP_ERR_READ_PENDING:
    "A read was started while another read on the same reader had not finished",
} as const;

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
}

/**
 * The one error class bftp throws. Branch on `code`, never on `message`.
 *
 * @example
 * try { await reader.readFrame() }
 * catch (err) { if (isBftpError(err, "BFTP_ERR_PEER_CLOSED")) return; throw err }
 */
export class BftpError extends Error {
  override readonly name = "BftpError";
  readonly code: ErrorCode;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, options: BftpErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
  }
}

/** True when `err` is a {@link BftpError}, and when `code` is given, one with that code. */
export function isBftpError(err: unknown, code?: ErrorCode): err is BftpError {
  return err instanceof BftpError && (code === undefined || err.code === code);
}
