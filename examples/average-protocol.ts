/**
 * The average protocol of the classic exercise ("a server that returns the average of a
 * list of numbers"), shared by average-server and average-client.
 *
 * A request is one size-header frame (8 hex digits giving the payload length, then the
 * payload) whose payload is a UTF-8 JSON array of numbers: `00000007[1,2,3]`.
 * The reply is one frame holding `{"mean": number, "count": number}` or
 * `{"error": {"code": string, "message": string}}`. Branch on the code, never the message.
 *
 * After an error reply the connection stays usable for the next request, except after
 * `BFTP_ERR_BAD_FRAME_HEADER`, `BFTP_ERR_TIMEOUT` and a `BFTP_ERR_FRAME_TOO_LARGE` frame
 * too large to skip: the server then closes the connection.
 */
import { BftpError, decodeUtf8, encodeFrame, type ErrorCode } from "../src/index.js";

/** The codes this example adds to bftp's catalogue, with what each means. */
export const AVERAGE_ERROR_CODES = {
  AVG_ERR_BAD_JSON: "The request payload was not valid JSON",
  AVG_ERR_NOT_AN_ARRAY: "The request was JSON but not an array",
  AVG_ERR_NOT_A_NUMBER: "An element of the array was not a number",
  AVG_ERR_NOT_FINITE: "A number was too large to represent, such as 1e999",
  AVG_ERR_EMPTY: "The array was empty: an empty list has no mean",
  AVG_ERR_BAD_REPLY: "The client could not understand the server's reply",
} as const;

/** A code defined by the average example. */
export type AverageErrorCode = keyof typeof AVERAGE_ERROR_CODES;

/** The bftp codes the server may reply with: framing failures and the idle deadline. */
export type AverageWireCode = Extract<
  ErrorCode,
  | "BFTP_ERR_BAD_UTF8"
  | "BFTP_ERR_FRAME_TOO_LARGE"
  | "BFTP_ERR_BAD_FRAME_HEADER"
  | "BFTP_ERR_TIMEOUT"
>;

/** Every code an error reply can carry. */
export type AverageReplyCode = AverageErrorCode | AverageWireCode;

/** A request the server refuses for what it says (not how it is framed). */
export class AverageError extends Error {
  override readonly name = "AverageError";
  readonly code: AverageErrorCode;

  constructor(code: AverageErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** A successful reply. */
export interface MeanReply {
  readonly mean: number;
  readonly count: number;
}

/** An error reply. */
export interface ErrorReply {
  readonly error: { readonly code: string; readonly message: string };
}

/** What the server answers to a request. */
export type AverageReply = MeanReply | ErrorReply;

/** Largest request payload the server accepts by default (`--max-request`). */
export const DEFAULT_MAX_REQUEST = 64 * 1024;
/** Largest refused frame the server skips to keep the connection (`--max-discard`). */
export const DEFAULT_MAX_DISCARD = 16 * 1024 * 1024;
/** Largest reply a client accepts; replies are a few dozen bytes. */
export const MAX_REPLY = 64 * 1024;

/**
 * The request frame for `numbers`.
 *
 * @example
 * encodeAverageRequest([1, 2, 3]).toString(); // "00000007[1,2,3]"
 */
export function encodeAverageRequest(numbers: readonly number[]): Buffer {
  for (const n of numbers) {
    if (!Number.isFinite(n)) {
      throw new AverageError("AVG_ERR_NOT_FINITE", `Cannot send "${n}": not a finite number`);
    }
  }
  return encodeFrame(JSON.stringify(numbers));
}

/**
 * The numbers in a request payload. Throws {@link AverageError} for JSON that is not a
 * non-empty array of finite numbers, and `BftpError` `BFTP_ERR_BAD_UTF8` for bytes that are
 * not UTF-8.
 */
export function parseAverageRequest(payload: Uint8Array): number[] {
  const text = decodeUtf8(payload);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AverageError("AVG_ERR_BAD_JSON", "Cannot read the request: it is not valid JSON");
  }
  if (!Array.isArray(value)) {
    throw new AverageError("AVG_ERR_NOT_AN_ARRAY", "Cannot average: the request is not an array");
  }
  if (value.length === 0) {
    throw new AverageError("AVG_ERR_EMPTY", "Cannot average an empty array");
  }
  value.forEach((item: unknown, index) => {
    if (typeof item !== "number") {
      throw new AverageError(
        "AVG_ERR_NOT_A_NUMBER",
        `Cannot average: element ${index} is a ${item === null ? "null" : typeof item}, not a number`,
      );
    }
    // JSON.parse turns 1e999 into Infinity.
    if (!Number.isFinite(item)) {
      throw new AverageError("AVG_ERR_NOT_FINITE", `Cannot average: element ${index} is too large`);
    }
  });
  return value as number[];
}

/**
 * The arithmetic mean, computed incrementally so no intermediate sum can overflow:
 * `computeMean([1e308, 1e308])` is 1e308, where `(a + b) / 2` would be Infinity.
 * The running mean after k values is m_k = m_{k-1} + (x - m_{k-1}) / k; when `x - m` itself
 * overflows (values of opposite sign near the limit), the same step is taken as
 * `x / k - m / k`, whose terms are each at most max/k.
 */
export function computeMean(numbers: readonly number[]): number {
  let mean = 0;
  let k = 0;
  for (const x of numbers) {
    k++;
    const delta = x - mean;
    mean += Number.isFinite(delta) ? delta / k : x / k - mean / k;
  }
  return mean;
}

/** The reply frame for `reply`. */
export function encodeAverageReply(reply: AverageReply): Buffer {
  return encodeFrame(JSON.stringify(reply));
}

/** An error reply with `code` and `message`. */
export function errorReply(code: AverageReplyCode, message: string): ErrorReply {
  return { error: { code, message } };
}

/** True when `reply` is an error reply. */
export function isErrorReply(reply: AverageReply): reply is ErrorReply {
  return "error" in reply;
}

/**
 * The reply in a reply payload, checked field by field (the client treats the server's
 * bytes as untrusted too). Throws {@link AverageError} `AVG_ERR_BAD_REPLY` for anything
 * else, and `BftpError` `BFTP_ERR_BAD_UTF8` for bytes that are not UTF-8.
 */
export function parseAverageReply(payload: Uint8Array): AverageReply {
  let value: unknown;
  try {
    value = JSON.parse(decodeUtf8(payload));
  } catch (err) {
    if (err instanceof BftpError) throw err;
    throw new AverageError("AVG_ERR_BAD_REPLY", "Cannot read the reply: it is not valid JSON");
  }
  if (typeof value === "object" && value !== null) {
    const { mean, count, error } = value as Record<string, unknown>;
    if (typeof mean === "number" && typeof count === "number") return { mean, count };
    if (typeof error === "object" && error !== null) {
      const { code, message } = error as Record<string, unknown>;
      if (typeof code === "string" && typeof message === "string") {
        return { error: { code, message } };
      }
    }
  }
  throw new AverageError("AVG_ERR_BAD_REPLY", "Cannot read the reply: unexpected fields");
}
