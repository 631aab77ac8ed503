import { BftpError } from "../errors.js";
import {
  array,
  boolean,
  either,
  integer,
  object,
  oneOf,
  optional,
  string,
  u64,
  type Infer,
  type Shape,
} from "../protocol/shape.js";
import { CHECKSUM_ALGORITHMS } from "../protocol/version.js";

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** A file-system entry (PROTOCOL.md §8). Names are checked again before any local use. */
export const entryShape = object({
  name: string(4096),
  type: oneOf(["file", "dir", "symlink", "other"]),
  size: u64,
  mtime: integer(),
});

/** An entry from STAT or LIST. */
export type Entry = Infer<typeof entryShape>;

/** The server's HELLO reply, as far as the client relies on it. */
export const helloShape = object({
  version: integer(),
  server: string(256),
  limits: object({ maxChunk: u64, maxControlFrame: u64 }),
  checksums: array(string(Number.MAX_SAFE_INTEGER), 16),
  /** Whether a LOGIN is needed, and which kinds it accepts ("password", "anonymous"). */
  auth: optional(object({ required: boolean, methods: array(string(64), 16) })),
});

/** What the server announced in HELLO (other fields are kept, unchecked). */
export type ServerInfo = Infer<typeof helloShape> & Readonly<Record<string, unknown>>;

export const pathReply = object({ path: string(8192) });
export const statReply = object({ entry: entryShape });
export const listFrame = array(entryShape, 100_000);
export const getReply = object({
  size: u64,
  mtime: integer(),
  offset: u64,
  length: u64,
  /** The file's version token (§8.7); absent from servers older than issue 11. */
  version: optional(string(64)),
});
/** What a GET's reply says of the file and the range coming (PROTOCOL.md §8.7). */
export type GetReply = Infer<typeof getReply>;
export const putReply = object({
  size: u64,
  checksum: object({ alg: oneOf(CHECKSUM_ALGORITHMS), value: string(128) }),
});
export const hashReply = object({
  alg: oneOf(["sha256"]),
  value: string(64, { pattern: SHA256_HEX }),
  offset: u64,
  length: u64,
  version: optional(string(64)),
});
export const resumeReply = object({
  offset: u64,
  sha256: string(64, { pattern: SHA256_HEX }),
});

export const loginReply = either(
  object({ user: string(256) }),
  // The first step of a key login (PROTOCOL.md §8.2.1).
  object({ challenge: string(64) }),
);

/**
 * The reply shape of each command answered by a reply alone. `ClientConnection.request()`
 * checks a reply against it inside the exchange, so a reply of the wrong shape closes the
 * connection as any reply that breaks the protocol does (issue 11); checked only after the
 * exchange, it would reject the call and leave the connection open. Commands not listed
 * (DELETE, RMDIR, NOOP, QUIT, ABORT) carry no field the client uses.
 */
export const REPLY_SHAPES: ReadonlyMap<string, Shape<unknown>> = new Map<string, Shape<unknown>>([
  ["HELLO", helloShape],
  ["LOGIN", loginReply],
  ["PWD", pathReply],
  ["CD", pathReply],
  ["STAT", statReply],
  ["MKDIR", pathReply],
  ["RENAME", pathReply],
  ["HASH", hashReply],
  ["RESUME", resumeReply],
]);

/**
 * Validates a reply against its shape and types it; a server that breaks the protocol is
 * BFTP_ERR_PROTOCOL, which closes the connection when thrown inside an exchange (replies
 * from `request()` have been checked there already, against {@link REPLY_SHAPES}).
 */
export function expectShape<T>(shape: Shape<T>, body: unknown, what: string): T {
  if (!shape(body)) {
    throw new BftpError(
      "BFTP_ERR_PROTOCOL",
      `Cannot use the server's ${what} reply: it does not match PROTOCOL.md`,
      { connectionUsable: false },
    );
  }
  return body;
}
