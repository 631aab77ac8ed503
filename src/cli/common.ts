import { type Command, InvalidArgumentError } from "commander";
import { BftpClient, type ClientOptions } from "../client/client.js";
import { localReason } from "../client/in-step.js";
import { isLocation, parseLocation, type Location } from "../client/location.js";
import type { Entry } from "../client/reply-shapes.js";
import { escapeControls } from "../client/safe-name.js";
import { BftpError, isBftpError, type ErrorCode } from "../errors.js";
import { DEFAULT_PORT, DEFAULT_TLS_PORT } from "../protocol/version.js";
import { addHostTrustOptions, hostTrustOptions } from "./host-trust-options.js";
import { readClientConfig, remoteLocation, remoteNameOf } from "./client-config.js";
import { credentialsFor, hostPort, type Credentials } from "./login.js";

export { credentialsFor, hostPort, type Credentials } from "./login.js";

/**
 * Exit codes of every `bftp` command (docs/cli.md, exit codes).
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
  /** bftps://: trust a server seen for the first time without asking. */
  readonly acceptNew?: boolean;
  /** Where known_hosts lives. */
  readonly configDir?: string;
  /** Log in as this user (else the location's `user@`). */
  readonly user?: string;
  /** Draw progress bars or not, whatever the terminal (the shell's `progress` command). */
  readonly progress?: boolean;
  /** Log in with this private key file instead of a password (`-i`). */
  readonly identity?: string;
}

/** `--user`, the same on every client command and the shell. */
export const USER_OPTION = {
  flags: "--user <name>",
  description: "log in as NAME (or bftp://NAME@host); password typed, or $BFTP_PASSWORD",
} as const;

/** `-i/--identity`, the same on every client command and the shell. */
export const IDENTITY_OPTION = {
  flags: "-i, --identity <keyfile>",
  description:
    "log in with this private key (as ssh -i) instead of a password; keys in ssh-agent are tried by themselves",
} as const;

/** What to do about `BFTP_ERR_NOT_AUTHENTICATED`. */
export const LOGIN_HINT =
  "the server requires an account: name it as bftp://USER@HOST, with --user USER, or in a named remote; the password is typed, taken from BFTP_PASSWORD, or saved in ~/.netrc or the config folder's credentials file (chmod 600)";

/**
 * Throws `BFTP_ERR_NOT_AUTHENTICATED`, with what to do, when the server requires a login and
 * none was made: better than the same refusal on every command that follows.
 */
export function checkLoggedIn(client: BftpClient, where: Location, credentials: Credentials): void {
  if (credentials.user !== undefined || client.server.auth?.required !== true) return;
  throw new BftpError(
    "BFTP_ERR_NOT_AUTHENTICATED",
    `Cannot use ${hostPort(where)} without logging in (${LOGIN_HINT})`,
  );
}

const CONNECT_CODES: ReadonlySet<ErrorCode> = new Set([
  "BFTP_ERR_CONNECTION_REFUSED",
  "BFTP_ERR_BUSY",
  "BFTP_ERR_UNSUPPORTED_VERSION",
  "BFTP_ERR_TLS_HANDSHAKE",
  "BFTP_ERR_HOST_UNKNOWN",
  "BFTP_ERR_HOST_KEY_CHANGED",
]);
const LOST_CODES: ReadonlySet<ErrorCode> = new Set([
  "BFTP_ERR_CONNECTION_LOST",
  "BFTP_ERR_UNEXPECTED_EOF",
  "BFTP_ERR_PEER_CLOSED",
  "BFTP_ERR_TIMEOUT",
  "BFTP_ERR_PROTOCOL",
  "BFTP_ERR_SHUTTING_DOWN",
]);

/** Failures of a get or put that the same command with -c finishes (the partial is kept). */
const RESUMED_BY_C: ReadonlySet<ErrorCode> = new Set([
  "BFTP_ERR_CONNECTION_LOST",
  "BFTP_ERR_UNEXPECTED_EOF",
  "BFTP_ERR_PEER_CLOSED",
  "BFTP_ERR_TIMEOUT",
]);

/** The exit code for a failure. */
export function exitCodeFor(err: unknown): number {
  if (!isBftpError(err)) return EXIT.failed;
  if (
    err.code === "BFTP_ERR_INVALID_ARGUMENT" ||
    err.code === "BFTP_ERR_UNSAFE_LISTEN" ||
    err.code === "BFTP_ERR_UNKNOWN_REMOTE"
  ) {
    return EXIT.usage;
  }
  if (CONNECT_CODES.has(err.code) || err.details["phase"] === "connect") return EXIT.connect;
  if (LOST_CODES.has(err.code)) return EXIT.lost;
  return EXIT.failed;
}

/**
 * Prints a failure on stderr as one line, `bftp: MESSAGE (CODE)`, control characters escaped
 * (names come from the server); with --json, as `{"ok":false,"error":{...}}` on stdout.
 * Returns the exit code.
 */
export function reportError(
  err: unknown,
  flags: CommonFlags = {},
  options: { readonly resumable?: boolean } = {},
): number {
  const code = isBftpError(err) ? err.code : "BFTP_ERR_INTERNAL";
  let message = err instanceof Error ? err.message : String(err);
  if (code === "BFTP_ERR_SHUTTING_DOWN") {
    // Issue 11, item 10d: say why, and how to finish what was cut.
    message = `${message} (the server is stopping; once it is back, run the same get or put with -c to resume)`;
  } else if (options.resumable === true && RESUMED_BY_C.has(code)) {
    // Issue 13, item 8: a transfer cut midway says how to finish it.
    message = `${message} (run the same command with -c to resume)`;
  }
  if (flags.json === true) {
    // A local file-system failure also carries the system's code (EACCES, ENOSPC…), so a
    // script can tell "permission denied" from "no such file" without reading the message.
    const cause = err instanceof Error ? (err.cause as { code?: unknown } | undefined) : undefined;
    const errno =
      code === "BFTP_ERR_LOCAL_FILE" && typeof cause?.code === "string" ? cause.code : undefined;
    const error = errno === undefined ? { code, message } : { code, message, errno };
    process.stdout.write(`${jsonLine({ ok: false, error })}\n`);
  } else {
    process.stderr.write(`bftp: ${escapeControls(message)} (${code})\n`);
  }
  return exitCodeFor(err);
}

/**
 * Parses a location argument: `bftp://...`, `bftps://...`, or `NAME:PATH` for a remote of the
 * client configuration file (client-config.ts: which arguments are names, and how PATH
 * resolves). Anything else fails as a usage error that says what was expected.
 */
export function location(
  text: string,
  flags: { readonly configDir?: string | undefined } = {},
): Location {
  if (isLocation(text)) {
    // "?" is a glob character in a remote path (remote-glob.ts), not the start of a URL query.
    return parseLocation(text.replaceAll("?", "%3F"));
  }
  const config = readClientConfig(flags.configDir);
  const name = remoteNameOf(text, config);
  // HOST:PORT/PATH (no scheme) and SCHEME://... (another scheme) are locations written
  // wrongly, not remotes' names, unless such a remote is configured.
  const locationForm = /^[^:]+:(\d+(\/|$)|\/\/)/u.test(text);
  if (name !== undefined && (config.remotes.has(name) || !locationForm)) {
    return remoteLocation(text, name, config);
  }
  throw new BftpError(
    "BFTP_ERR_INVALID_ARGUMENT",
    `Cannot use ${JSON.stringify(text)} as a server location: expected bftp://HOST[:PORT]/PATH, bftps://HOST[:PORT]/PATH, or NAME:PATH for a remote of ${config.file}`,
  );
}

/** True when `text` is a location for {@link location}: a URL, or `NAME:PATH` (no `/` before the `:`). */
export function isRemoteArgument(
  text: string,
  flags: { readonly configDir?: string | undefined } = {},
): boolean {
  return isLocation(text) || remoteNameOf(text, readClientConfig(flags.configDir)) !== undefined;
}

/**
 * The connection options of a client command for `where`: deadlines from --timeout, and for
 * `bftps://`, TLS trusted through known_hosts (see host-trust-options.ts).
 */
export function clientOptions(where: Location, flags: CommonFlags): ClientOptions {
  const timeoutMs = flags.timeout === undefined ? undefined : flags.timeout * 1000;
  return {
    ...(timeoutMs === undefined
      ? {}
      : { timeout: timeoutMs, limits: { stallTimeoutMs: timeoutMs } }),
    ...(where.tls ? { tls: hostTrustOptions(flags) } : {}),
  };
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
  const credentials = await credentialsFor(where, flags);
  const started = performance.now();
  let client: BftpClient;
  try {
    client = await BftpClient.connect(
      { host: where.host, port: where.port },
      { ...credentials, ...clientOptions(where, flags) },
    );
  } catch (err) {
    throw connectFailure(err, where);
  }
  try {
    note(
      flags,
      `connected to ${hostPort(where)} (${client.server.server}, BFTP/${client.server.version}) in ${Math.round(performance.now() - started)} ms`,
    );
    checkLoggedIn(client, where, credentials);
    return await body(client);
  } finally {
    await client.close();
  }
}

/** Refusals of the login step: the server was reached, so they are not connect failures. */
const LOGIN_REFUSALS: ReadonlySet<ErrorCode> = new Set([
  "BFTP_ERR_LOGIN_FAILED",
  "BFTP_ERR_NOT_AUTHENTICATED",
]);

/**
 * A failure to connect, as the command line reports it: whatever failed before HELLO was
 * answered (a timeout, a reset) is "could not connect" (exit 3), with advice where the
 * library cannot know it (--accept-new, bftps://).
 */
export function connectFailure(err: unknown, where: Location): unknown {
  // A refused login is a plain failure (exit 1), not "could not connect".
  if (!isBftpError(err) || LOGIN_REFUSALS.has(err.code)) return err;
  // The server's own refusal, or a failure the library already reports as one to connect
  // (TCP, TLS, certificate, the HELLO deadline): its message says so, and is kept.
  const said = err.remote || err.details["phase"] === "connect";
  let message = said
    ? err.message
    : `Cannot connect to ${hostPort(where)}: the server did not answer the greeting (${err.message})`;
  if (err.code === "BFTP_ERR_HOST_UNKNOWN") {
    message += `; check the fingerprint with the server's operator, then run again at a terminal to be asked, or with --accept-new`;
  } else if (!where.tls && !said) {
    message += `; if that server runs with --tls, use bftps://`;
  }
  return new BftpError(err.code, message, {
    cause: err.cause ?? err,
    details: { ...err.details, phase: "connect" },
  });
}

/** Prints a result line for people (unless quiet or --json). */
export function say(flags: CommonFlags, line: string): void {
  if (flags.quiet !== true && flags.json !== true) process.stdout.write(`${line}\n`);
}

/** Prints the JSON document of a command (with --json). */
export function sayJson(flags: CommonFlags, value: unknown): void {
  if (flags.json === true) process.stdout.write(`${jsonLine(value)}\n`);
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

/**
 * One line of JSON that is safe on a terminal: JSON.stringify escapes C0 controls but leaves
 * DEL and the C1 range raw, and a C1 CSI can still drive some terminals.
 */
export function jsonLine(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\u009f\u2028\u2029]/gu,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** A diagnostic line on stderr, shown with -v only (never with -q or --json). */
export function note(flags: CommonFlags, line: string): void {
  if (flags.verbose === true && flags.quiet !== true && flags.json !== true) {
    process.stderr.write(`bftp: ${escapeControls(line)}\n`);
  }
}

/** A warning on stderr (not with -q or --json, where it goes into the JSON document). */
export function warn(flags: CommonFlags, line: string): void {
  if (flags.quiet !== true && flags.json !== true) {
    process.stderr.write(`bftp: warning: ${escapeControls(line)}\n`);
  }
}

/** A usage error (exit code 2) that says what was expected. */
export function usageError(message: string): BftpError {
  return new BftpError("BFTP_ERR_INVALID_ARGUMENT", message);
}

/**
 * The same failure with advice appended, when it has `code`: the library says what went
 * wrong, the command line knows which flag or command fixes it.
 */
export function withHint(err: unknown, code: ErrorCode, hint: string): unknown {
  if (!isBftpError(err, code)) return err;
  return new BftpError(err.code, `${err.message} (${hint})`, {
    cause: err.cause ?? err,
    details: err.details,
  });
}

/**
 * Runs a command's body and turns any failure into its report and exit code, so every
 * command fails the same way. The body resolves with the exit code (0 unless it says so).
 */
export async function runAction(
  flags: CommonFlags,
  body: () => Promise<number | undefined>,
  options: { readonly resumable?: boolean } = {},
): Promise<void> {
  try {
    process.exitCode = (await body()) ?? EXIT.ok;
  } catch (err) {
    process.exitCode = reportError(localFailure(err), flags, options);
  }
}

/**
 * A Node file-system error that escaped the library (a folder a tree copy could not create)
 * as BFTP_ERR_LOCAL_FILE with a short reason, instead of an internal error with the
 * system's text.
 */
function localFailure(err: unknown): unknown {
  if (isBftpError(err) || !(err instanceof Error)) return err;
  const { code, syscall, path } = err as NodeJS.ErrnoException;
  if (typeof code !== "string" || syscall === undefined) return err;
  const what = path === undefined ? "" : ` ${JSON.stringify(path)}`;
  return new BftpError("BFTP_ERR_LOCAL_FILE", `Cannot ${syscall}${what}: ${localReason(err)}`, {
    cause: err,
  });
}

/** The seconds of --timeout (commander parser). */
export function timeoutSeconds(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !Number.isFinite(n) || n <= 0) {
    throw new InvalidArgumentError("expected a number of seconds greater than 0");
  }
  return n;
}

/** Adds -q, -v, --json, --timeout, --accept-new and --config-dir, shared by every client command. */
export function addCommonOptions(command: Command): Command {
  return addHostTrustOptions(
    command
      .option("-q, --quiet", "print only errors")
      .option("-v, --verbose", "print more: the connection, each file, timings (on stderr)")
      .option("--json", "print one JSON document on stdout, for programs")
      .option(USER_OPTION.flags, USER_OPTION.description)
      .option(IDENTITY_OPTION.flags, IDENTITY_OPTION.description)
      .option(
        "--timeout <seconds>",
        "give up connecting (default 10), or on a transfer stalled this long (default 60)",
        timeoutSeconds,
      ),
  );
}

/** The exit-code table, for the end of every client command's --help. */
export const EXIT_HELP = `
Exit codes:
  0  success
  1  the operation failed (the server refused, a check failed, a local file problem)
  2  usage error (bad flag, bad location)
  3  could not connect (nothing listening: start one with "bftp serve DIR"), or a
     bftps:// server's certificate is not trusted (unknown, or changed)
  4  the connection was lost part-way (run again; -c continues a transfer)
  5  a recursive transfer finished, but some files failed or were skipped

Locations are written bftp://[user@]host[:port]/path (port ${DEFAULT_PORT} by default);
names with spaces are quoted for the shell or written %20. bftps://host[:port]/path speaks
TLS (port ${DEFAULT_TLS_PORT} by default): the first time, bftp shows the server's certificate
fingerprint and asks (or trusts it with --accept-new), pins it in known_hosts, and from then on
refuses a server whose certificate changed.

NAME:PATH is a named remote of config.toml in the config folder (host, port, tls, user and a
default folder that PATH is relative to; /PATH is absolute): bftp ls home:, bftp get
home:a.txt. NAME has no "/" before its ":" (./a:b is a path) and a one-letter NAME must be
configured (C: stays a drive). Saved logins: "machine HOST login USER password PW" lines in
the config folder's credentials file or in ~/.netrc ($NETRC), readable by you only (chmod
600); BFTP_PASSWORD comes first, the prompt last.`;

/** The remote entry at `remote`, or undefined when there is none. */
export async function statOrNone(client: BftpClient, remote: string): Promise<Entry | undefined> {
  try {
    return await client.stat(remote);
  } catch (err) {
    if (isBftpError(err, "BFTP_ERR_NOT_FOUND")) return undefined;
    throw err;
  }
}
