import { BftpError, ERROR_CODES, RemoteError, type ErrorCode } from "../errors.js";
import { encodeFrame } from "../wire/encode-frame.js";
import { decodeUtf8 } from "../wire/decode-utf8.js";
import { boolean, either, integer, object, oneOf, optional, string } from "./shape.js";

/** The error object of an error reply or an error trailer (PROTOCOL.md §5.1). */
export interface WireError {
  readonly code: string;
  readonly status: number;
  readonly message: string;
}

/** A reply or trailer body: `ok` and the command's fields. */
export type ReplyBody = { readonly ok: boolean } & Readonly<Record<string, unknown>>;

/**
 * One control frame holding `body` as JSON, ready for a single write.
 *
 * @example
 * await writeAll(socket, encodeMessage({ ok: true, path: "/" }));
 */
export function encodeMessage(body: object): Buffer {
  return encodeFrame(JSON.stringify(body));
}

/**
 * The wire form of a failure. Only codes with a wire status cross the wire, with their own
 * message (which names virtual paths only); anything else becomes `BFTP_ERR_INTERNAL` with a
 * generic message, so no internal text or real path ever reaches a client (STYLE.md).
 */
export function toWireError(err: unknown): WireError {
  if (err instanceof BftpError && err.status !== undefined) {
    return { code: err.code, status: err.status, message: err.message };
  }
  return {
    code: "BFTP_ERR_INTERNAL",
    status: 500,
    message: "Cannot complete the request: internal error",
  };
}

/** The error object of an error reply or trailer (§5.1), as every receiver checks it. */
export const wireError = object({
  code: string(128),
  status: integer(),
  message: string(4096),
});
// An ok reply may carry any fields (unknown ones are ignored, PROTOCOL.md §4.1); an error
// reply must carry its error object (§5.1), and `close` when present is a boolean (§5.2).
const replyShape = either(
  object({ ok: oneOf([true]) }),
  object({ ok: oneOf([false]), error: wireError, close: optional(boolean) }),
);

/**
 * Parses a reply or trailer frame's payload. Resolves the body of an `ok` reply; an error
 * reply becomes a {@link RemoteError} carrying the server's code (or `BFTP_ERR_INTERNAL` for
 * a code this build does not know, with the original in `details.remoteCode`), usable unless
 * the reply said `close`. A payload that is not a reply (not UTF-8 JSON, not an object, no
 * boolean `ok`, an error reply without a well-formed error object) is `BFTP_ERR_PROTOCOL`:
 * the stream can no longer be trusted, so callers close the connection.
 */
export function parseReply(payload: Uint8Array): ReplyBody {
  let value: unknown;
  try {
    value = JSON.parse(decodeUtf8(payload));
  } catch (err) {
    throw new BftpError("BFTP_ERR_PROTOCOL", "Cannot read the reply: it is not UTF-8 JSON", {
      cause: err,
      connectionUsable: false,
    });
  }
  if (!replyShape(value)) {
    throw new BftpError(
      "BFTP_ERR_PROTOCOL",
      'Cannot read the reply: it is not an object with a boolean "ok" and, when "ok" is false, an error object',
      { connectionUsable: false },
    );
  }
  if (value.ok) return value;
  throw remoteError(value.error, value.close === true);
}

/** The local error for a server's error object. */
export function remoteError(error: WireError, close = false): RemoteError {
  const known = Object.hasOwn(ERROR_CODES, error.code);
  const code: ErrorCode = known ? (error.code as ErrorCode) : "BFTP_ERR_INTERNAL";
  return new RemoteError(code, error.message, {
    close,
    details: { remoteCode: error.code, status: error.status },
  });
}
