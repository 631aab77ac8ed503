import * as z from "zod";
import { BftpError } from "../errors.js";
import { decodeUtf8 } from "../wire/decode-utf8.js";
import { CHECKSUM_ALGORITHMS } from "./version.js";

// Field types of PROTOCOL.md §8. Sizes and offsets are 64-bit safe integers.
const path = z.string();
const u64 = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const tag = z.union([z.string().max(64), z.number().int()]);
const checksum = z.enum(CHECKSUM_ALGORITHMS);
/** Base64 of at most `chars` characters. */
const base64 = (chars: number) =>
  z
    .string()
    .max(chars)
    .regex(/^[A-Za-z0-9+/]*={0,2}$/u);

/** A strict request schema: unknown fields are refused (PROTOCOL.md §4.1). */
function request<Op extends string, Shape extends z.ZodRawShape>(op: Op, shape: Shape) {
  return z.strictObject({ op: z.literal(op), tag: tag.optional(), ...shape });
}

/** Fields whose out-of-range numbers are `BFTP_ERR_BAD_RANGE` rather than a bad request. */
const RANGE_FIELDS: ReadonlySet<string> = new Set(["offset", "length"]);

/** Every request of BFTP/1, by `op`, with a one-line summary for HELP. */
export const REQUESTS = {
  HELLO: request("HELLO", {
    versions: z.array(z.number().int()).min(1).max(16),
    client: z.string().max(128).optional(),
  }),
  LOGIN: request("LOGIN", {
    user: z.string().max(256),
    password: z.string().max(1024).optional(),
    // Key login (PROTOCOL.md §8.2.1): the public key, then the signature of the challenge.
    method: z.enum(["password", "publickey"]).optional(),
    key: base64(4096).optional(),
    signature: base64(2048).optional(),
  }),
  NOOP: request("NOOP", {}),
  HELP: request("HELP", {}),
  QUIT: request("QUIT", {}),
  PWD: request("PWD", {}),
  CD: request("CD", { path }),
  STAT: request("STAT", { path }),
  LIST: request("LIST", { path: path.optional() }),
  GET: request("GET", {
    path,
    offset: u64.optional(),
    length: u64.optional(),
    checksum: checksum.optional(),
    /** Only if the file is still this version (a `version` from GET or HASH, §8.7). */
    ifVersion: z.string().max(64).optional(),
  }),
  PUT: request("PUT", {
    path,
    size: u64.optional(),
    overwrite: z.boolean().optional(),
    offset: u64.optional(),
    resumable: z.boolean().optional(),
    checksum: checksum.optional(),
    mtime: u64.optional(),
  }),
  DELETE: request("DELETE", { path }),
  MKDIR: request("MKDIR", { path, parents: z.boolean().optional() }),
  RMDIR: request("RMDIR", { path }),
  RENAME: request("RENAME", { from: path, to: path, overwrite: z.boolean().optional() }),
  HASH: request("HASH", {
    path,
    offset: u64.optional(),
    length: u64.optional(),
    alg: z.literal("sha256").optional(),
  }),
  RESUME: request("RESUME", { path }),
  ABORT: request("ABORT", {}),
  GETTREE: request("GETTREE", {
    path,
    checksum: checksum.optional(),
    /** A data phase of have lists follows the request (PROTOCOL.md §8.13). */
    have: z.boolean().optional(),
    /** A data phase of paths follows; each is sent under its index (§8.13, `"tree-list"`). */
    list: z.boolean().optional(),
  }),
  PUTTREE: request("PUTTREE", {
    path,
    overwrite: z.boolean().optional(),
    checksum: checksum.optional(),
    /** An offer follows; the server says which files it holds (§8.14, `"puttree-offer"`). */
    offer: z.boolean().optional(),
  }),
} as const;

/** A command name. */
export type Op = keyof typeof REQUESTS;

/** A validated request of the given command. */
export type RequestOf<O extends Op> = z.infer<(typeof REQUESTS)[O]>;

/** Any validated request. */
export type Request = { [O in Op]: RequestOf<O> }[Op];

/** The one-line summaries HELP returns, in the order PROTOCOL.md lists the commands. */
export const SUMMARIES: Readonly<Record<Op, string>> = {
  HELLO: "Agree on the protocol version; learn the server's limits and capabilities",
  LOGIN: "Authenticate: an account and its password or key, or anonymous",
  NOOP: "Do nothing; keeps an idle connection alive",
  HELP: "List the commands",
  QUIT: "Close the connection after this reply",
  PWD: "Print the working directory",
  CD: "Change the working directory",
  STAT: "Describe one file or directory",
  LIST: "List a directory (streamed)",
  GET: "Download a file, whole, from an offset, or a byte range",
  PUT: "Upload a file atomically, optionally resuming",
  DELETE: "Delete a file",
  MKDIR: "Create a directory, optionally with its parents",
  RMDIR: "Remove an empty directory",
  RENAME: "Rename or move a file or directory",
  HASH: "SHA-256 of a file or a range, as sha256sum prints it",
  RESUME: "Report the partial upload kept for a path",
  ABORT: "Stop the download in progress",
  GETTREE: "Download a folder, recursively, as one stream of files",
  PUTTREE: "Upload files into a folder, recursively, as one stream, each committed atomically",
};

/** The outcome of parsing one request frame. */
export type ParsedRequest =
  | { readonly ok: true; readonly request: Request }
  | {
      readonly ok: false;
      readonly error: BftpError;
      /** The connection cannot go on (PROTOCOL.md §5.2). */
      readonly fatal: boolean;
      /** The `op` the frame named, when it named one: a refused PUT still has a data phase. */
      readonly op: string | undefined;
      readonly tag: string | number | undefined;
    };

/**
 * Parses and validates one request frame's payload. Never throws: a payload that is not a
 * UTF-8 JSON object is fatal; a bad `op` or bad fields are not (PROTOCOL.md §5.2).
 *
 * @example
 * const parsed = parseRequest(await reader.readFrame({ maxSize: 8192 }));
 * if (parsed.ok && parsed.request.op === "GET") sendFile(parsed.request.path);
 */
export function parseRequest(payload: Uint8Array): ParsedRequest {
  let value: unknown;
  try {
    value = JSON.parse(decodeUtf8(payload));
  } catch (err) {
    return refuse(badRequest("the request is not UTF-8 JSON", err), true, undefined, undefined);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return refuse(badRequest("the request is not a JSON object"), true, undefined, undefined);
  }
  const fields = value as Record<string, unknown>;
  const op = typeof fields["op"] === "string" ? fields["op"] : undefined;
  const rawTag = fields["tag"];
  const echo = tag.safeParse(rawTag).success ? (rawTag as string | number) : undefined;
  if (op === undefined)
    return refuse(badRequest('the request has no string "op"'), false, op, echo);
  if (!Object.hasOwn(REQUESTS, op)) {
    const error = new BftpError(
      "BFTP_ERR_UNKNOWN_COMMAND",
      `Cannot run ${JSON.stringify(op.slice(0, 64))}: no such command`,
    );
    return refuse(error, false, op, echo);
  }
  const result = REQUESTS[op as Op].safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue ? issue.path.join(".") || "request" : "request";
    const bad = fields[where];
    if (RANGE_FIELDS.has(where) && typeof bad === "number") {
      // A number that is not a non-negative safe integer, as an offset or length, is a bad
      // range, not a malformed request (PROTOCOL.md §5.3); another type stays BAD_REQUEST.
      const error = new BftpError(
        "BFTP_ERR_BAD_RANGE",
        `Cannot run ${op}: "${where}" must be a non-negative integer, not ${JSON.stringify(bad)}`,
        { details: { [where]: bad } },
      );
      return refuse(error, false, op, echo);
    }
    return refuse(
      badRequest(`${op}: field "${where}": ${issue?.message ?? "invalid"}`),
      false,
      op,
      echo,
    );
  }
  return { ok: true, request: result.data };
}

function refuse(
  error: BftpError,
  fatal: boolean,
  op: string | undefined,
  echo: string | number | undefined,
): ParsedRequest {
  return { ok: false, error, fatal, op, tag: echo };
}

function badRequest(why: string, cause?: unknown): BftpError {
  return new BftpError(
    "BFTP_ERR_BAD_REQUEST",
    `Cannot run the request: ${why}`,
    cause === undefined ? {} : { cause },
  );
}
