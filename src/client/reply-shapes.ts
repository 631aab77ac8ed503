import * as z from "zod";
import { BftpError } from "../errors.js";
import { CHECKSUM_ALGORITHMS } from "../protocol/version.js";

const u64 = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** A file-system entry (PROTOCOL.md §8). Names are checked again before any local use. */
export const entryShape = z.object({
  name: z.string().max(4096),
  type: z.enum(["file", "dir", "symlink", "other"]),
  size: u64,
  mtime: z.number().int(),
});

/** An entry from STAT or LIST. */
export type Entry = z.infer<typeof entryShape>;

/** The server's HELLO reply, as far as the client relies on it. */
export const helloShape = z.looseObject({
  version: z.number().int(),
  server: z.string().max(256),
  limits: z.looseObject({ maxChunk: u64, maxControlFrame: u64 }),
  checksums: z.array(z.string()).max(16),
  /** Whether a LOGIN is needed, and which kinds it accepts ("password", "anonymous"). */
  auth: z
    .looseObject({ required: z.boolean(), methods: z.array(z.string().max(64)).max(16) })
    .optional(),
});

/** What the server announced in HELLO. */
export type ServerInfo = z.infer<typeof helloShape>;

export const pathReply = z.looseObject({ path: z.string().max(8192) });
export const statReply = z.looseObject({ entry: entryShape });
export const listFrame = z.array(entryShape).max(100_000);
export const getReply = z.looseObject({
  size: u64,
  mtime: z.number().int(),
  offset: u64,
  length: u64,
  /** The file's version token (§8.7); absent from servers older than issue 11. */
  version: z.string().max(64).optional(),
});
export const putReply = z.looseObject({
  size: u64,
  checksum: z.object({ alg: z.enum(CHECKSUM_ALGORITHMS), value: z.string().max(128) }),
});
export const hashReply = z.looseObject({
  alg: z.literal("sha256"),
  value: z.string().regex(/^[0-9a-f]{64}$/),
  offset: u64,
  length: u64,
  version: z.string().max(64).optional(),
});
export const resumeReply = z.looseObject({
  offset: u64,
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

export const loginReply = z.union([
  z.looseObject({ user: z.string().max(256) }),
  // The first step of a key login (PROTOCOL.md §8.2.1).
  z.looseObject({ challenge: z.string().max(64) }),
]);

/**
 * The reply shape of each command answered by a reply alone. `ClientConnection.request()`
 * checks a reply against it inside the exchange, so a reply of the wrong shape closes the
 * connection as any reply that breaks the protocol does (issue 11); checked only after the
 * exchange, it would reject the call and leave the connection open. Commands not listed
 * (DELETE, RMDIR, NOOP, QUIT, ABORT) carry no field the client uses.
 */
export const REPLY_SHAPES: ReadonlyMap<string, z.ZodType> = new Map<string, z.ZodType>([
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
export function expectShape<T>(shape: z.ZodType<T>, body: unknown, what: string): T {
  const parsed = shape.safeParse(body);
  if (!parsed.success) {
    throw new BftpError(
      "BFTP_ERR_PROTOCOL",
      `Cannot use the server's ${what} reply: it does not match PROTOCOL.md`,
      { connectionUsable: false },
    );
  }
  return parsed.data;
}
