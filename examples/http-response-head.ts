/**
 * The head of an HTTP/1.x response (status line and header fields), parsed from the bytes
 * before the blank line. Pure: no sockets, so it can be tested on any input.
 */
import type { ErrorCode } from "../src/index.js";

/** Codes http-get fails with: its own, and bftp's where the failure is a framing one. */
export type HttpGetErrorCode =
  | "HTTP_ERR_MALFORMED" // the response is not HTTP/1.x as specified
  | "HTTP_ERR_STATUS" // the server answered, but not with 2xx
  | "HTTP_ERR_UNSUPPORTED" // valid HTTP this small client does not implement
  | ErrorCode;

/** A failure of http-get, with a stable code to branch on. */
export class HttpGetError extends Error {
  override readonly name = "HttpGetError";
  readonly code: HttpGetErrorCode;

  constructor(code: HttpGetErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** A parsed response head. */
export interface ResponseHead {
  /** The status line as sent, e.g. `HTTP/1.0 200 OK`. */
  readonly statusLine: string;
  /** The status code, e.g. 404. */
  readonly status: number;
  /** Header values by lower-case name, in order; a repeated field has several. */
  readonly headers: ReadonlyMap<string, readonly string[]>;
}

const STATUS_LINE = /^HTTP\/1\.[01] ([1-9]\d\d)(?: [\t -~\x80-\xff]*)?$/;
const FIELD = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[\t ]*(.*?)[\t ]*$/;

/**
 * Parses the bytes before `\r\n\r\n`. Header bytes are decoded as Latin-1, which maps every
 * byte to one character, so no input can fail to decode. Throws {@link HttpGetError}
 * `HTTP_ERR_MALFORMED` for a status line or a field line that breaks HTTP/1.x syntax.
 *
 * @example
 * parseResponseHead(Buffer.from("HTTP/1.0 200 OK\r\nContent-Length: 5")).status; // 200
 */
export function parseResponseHead(bytes: Uint8Array): ResponseHead {
  const [statusLine = "", ...lines] = Buffer.from(bytes).toString("latin1").split("\r\n");
  const match = STATUS_LINE.exec(statusLine);
  if (!match) {
    throw new HttpGetError(
      "HTTP_ERR_MALFORMED",
      `Cannot read the response: ${JSON.stringify(statusLine.slice(0, 80))} is not an HTTP/1.x status line`,
    );
  }
  const headers = new Map<string, string[]>();
  for (const line of lines) {
    const field = FIELD.exec(line);
    if (!field) {
      throw new HttpGetError(
        "HTTP_ERR_MALFORMED",
        `Cannot read the response: malformed header line ${JSON.stringify(line.slice(0, 80))}`,
      );
    }
    const name = (field[1] ?? "").toLowerCase();
    const values = headers.get(name) ?? [];
    values.push(field[2] ?? "");
    headers.set(name, values);
  }
  return { statusLine, status: Number(match[1]), headers };
}

/**
 * The body length the head announces, or undefined when it has no Content-Length (then the
 * body ends when the server closes). Throws `HTTP_ERR_MALFORMED` for a value that is not a
 * plain decimal number, or for several different values (a response-smuggling sign).
 */
export function contentLength(head: ResponseHead): number | undefined {
  const values = (head.headers.get("content-length") ?? []).flatMap((v) => v.split(","));
  if (values.length === 0) return undefined;
  const lengths = new Set(values.map((v) => v.trim()));
  const [only] = lengths;
  const length =
    lengths.size === 1 && only !== undefined && /^\d+$/.test(only) ? Number(only) : NaN;
  if (!Number.isSafeInteger(length)) {
    throw new HttpGetError(
      "HTTP_ERR_MALFORMED",
      `Cannot read the response: bad Content-Length ${JSON.stringify(values.join(","))}`,
    );
  }
  return length;
}
