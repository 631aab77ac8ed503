import { z } from "zod";
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

/** Validates a reply against its shape; a server that breaks the protocol is BFTP_ERR_PROTOCOL. */
export function expectShape<T>(shape: z.ZodType<T>, body: unknown, what: string): T {
  const parsed = shape.safeParse(body);
  if (!parsed.success) {
    throw new BftpError(
      "BFTP_ERR_PROTOCOL",
      `Cannot use the server's ${what} reply: it does not match PROTOCOL.md`,
    );
  }
  return parsed.data;
}
