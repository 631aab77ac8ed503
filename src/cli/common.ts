import { BftpClient } from "../client/client.js";
import { parseLocation, type Location } from "../client/location.js";
import { escapeControls } from "../client/safe-name.js";
import { BftpError, isBftpError, type ErrorCode } from "../errors.js";

/**
 * Exit codes of every `bftp` command (README: CLI reference).
 * 0 success; 1 the operation failed (the server refused, a check failed, a local file problem);
 * 2 usage error; 3 could not connect; 4 the connection was lost part-way;
 * 5 a recursive or batch transfer finished with some files failed.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, connect: 3, lost: 4, partial: 5 } as const;

/** Flags every client command accepts. */
export interface CommonFlags {
  /** Print only errors. */
  readonly quiet?: boolean;
  /** Print more: each file, timings. */
  readonly verbose?: boolean;
  /** Machine-readable output: one JSON document on stdout. */
  readonly json?: boolean;
  /** Connect and stall deadline, seconds. */
  readonly timeout?: number;
}

const CONNECT_CODES: ReadonlySet<ErrorCode> = new Set([
  "BFTP_ERR_CONNECTION_REFUSED",
  "BFTP_ERR_BUSY",
  "BFTP_ERR_UNSUPPORTED_VERSION",
]);
const LOST_CODES: ReadonlySet<ErrorCode> = new Set([
  "BFTP_ERR_CONNECTION_LOST",
  "BFTP_ERR_UNEXPECTED_EOF",
  "BFTP_ERR_PEER_CLOSED",
  "BFTP_ERR_TIMEOUT",
  "BFTP_ERR_PROTOCOL",
  "BFTP_ERR_SHUTTING_DOWN",
]);

/** The exit code for a failure. */
export function exitCodeFor(err: unknown): number {
  if (!isBftpError(err)) return EXIT.failed;
  if (err.code === "BFTP_ERR_INVALID_ARGUMENT") return EXIT.usage;
  if (CONNECT_CODES.has(err.code)) return EXIT.connect;
  if (LOST_CODES.has(err.code)) return EXIT.lost;
  return EXIT.failed;
}

/**
 * Prints a failure on stderr as one line, `bftp: MESSAGE (CODE)`, control characters escaped
 * (names come from the server); with --json, as `{"ok":false,"error":{...}}` on stdout.
 * Returns the exit code.
 */
export function reportError(err: unknown, flags: CommonFlags = {}): number {
  const code = isBftpError(err) ? err.code : "BFTP_ERR_INTERNAL";
  const message = err instanceof Error ? err.message : String(err);
  if (flags.json === true) {
    process.stdout.write(`${JSON.stringify({ ok: false, error: { code, message } })}\n`);
  } else {
    process.stderr.write(`bftp: ${escapeControls(message)} (${code})\n`);
  }
  return exitCodeFor(err);
}

/** Parses a location argument, or fails as a usage error that says what was expected. */
export function location(text: string): Location {
  if (!text.startsWith("bftp://")) {
    throw new BftpError(
      "BFTP_ERR_INVALID_ARGUMENT",
      `Cannot use ${JSON.stringify(text)} as a server location: expected bftp://HOST[:PORT]/PATH`,
    );
  }
  return parseLocation(text);
}

/**
 * Connects to the server of `where`, runs `body`, and always closes. Connection errors say
 * what to do (a refused connection suggests `bftp serve`).
 */
export async function withClient<T>(
  where: Location,
  flags: CommonFlags,
  body: (client: BftpClient) => Promise<T>,
): Promise<T> {
  const timeoutMs = flags.timeout === undefined ? undefined : flags.timeout * 1000;
  const client = await BftpClient.connect(
    { host: where.host, port: where.port },
    timeoutMs === undefined ? {} : { timeout: timeoutMs, limits: { stallTimeoutMs: timeoutMs } },
  );
  try {
    return await body(client);
  } finally {
    await client.close();
  }
}

/** Prints a result line for people (unless quiet or --json). */
export function say(flags: CommonFlags, line: string): void {
  if (flags.quiet !== true && flags.json !== true) process.stdout.write(`${line}\n`);
}

/** Prints the JSON document of a command (with --json). */
export function sayJson(flags: CommonFlags, value: unknown): void {
  if (flags.json === true) process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** Bytes for people: 1.5 MiB. */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${n} B` : `${value.toFixed(value >= 100 ? 0 : 1)} ${units[unit] ?? ""}`;
}
