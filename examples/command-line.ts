/**
 * The command-line plumbing every example shares: `--help`, argument errors with exit code 2,
 * failures with exit code 1, and parsers for the values the examples take (ports, seconds,
 * byte counts). Built on `node:util` `parseArgs`, so there is no dependency to install.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { isBftpError } from "../src/index.js";

/** Exit code for a command line the program cannot accept (the shell convention). */
export const EXIT_USAGE = 2;

/** Exit code for a failure while running (refused connection, error reply, bad status). */
export const EXIT_FAILURE = 1;

/** A mistake in the command line: reported with a pointer to `--help`, exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** Thrown after `--help` printed the help: ends `main` early, with exit status 0. */
class HelpShown extends Error {
  override readonly name = "HelpShown";
}

/** What an example says about itself: its name and the text `--help` prints. */
export interface CommandInfo {
  /** The program name used in messages, e.g. `echo-server`. */
  readonly name: string;
  /** The full `--help` text: usage line, what it teaches, every option. */
  readonly help: string;
}

type Parsed<T extends ParseArgsConfig> = ReturnType<typeof parseArgs<T>>;

/**
 * Parses `argv` with `parseArgs` in strict mode (unknown flags are errors) and adds
 * `-h/--help`, which prints `info.help` and ends the program with status 0 (through
 * {@link runMain}). Any parse error is a {@link UsageError}.
 *
 * @example
 * const { values } = parseCommandLine({ options: { port: { type: "string" } } }, info);
 */
export function parseCommandLine<T extends ParseArgsConfig>(
  config: T,
  info: CommandInfo,
  argv: readonly string[] = process.argv.slice(2),
): Parsed<T> {
  let parsed: Parsed<T>;
  try {
    parsed = parseArgs({
      ...config,
      args: [...argv],
      strict: true,
      options: { ...config.options, help: { type: "boolean", short: "h" } },
    }) as Parsed<T>;
  } catch (err) {
    if (isParseArgsError(err)) throw new UsageError(err.message);
    throw err;
  }
  if ((parsed.values as Record<string, unknown>)["help"] === true) {
    process.stdout.write(info.help.endsWith("\n") ? info.help : `${info.help}\n`);
    throw new HelpShown();
  }
  return parsed;
}

function isParseArgsError(err: unknown): err is Error {
  const code = err instanceof Error ? (err as NodeJS.ErrnoException).code : undefined;
  return code?.startsWith("ERR_PARSE_ARGS") === true;
}

/**
 * Runs an example's `main`, turning its failures into the conventional exit codes:
 * {@link UsageError} → message, a pointer to `--help`, exit 2; any other error → its message
 * on stderr with its codes (the system's, e.g. `ECONNRESET`, and its own), exit 1. Sets
 * `process.exitCode` rather than exiting, so output already written is flushed and open
 * handles close normally.
 */
export function runMain(info: CommandInfo, main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    if (err instanceof HelpShown) return;
    if (err instanceof UsageError) {
      process.stderr.write(`${info.name}: ${err.message}\nRun "${info.name} --help" for usage.\n`);
      process.exitCode = EXIT_USAGE;
      return;
    }
    process.stderr.write(`${info.name}: ${describeFailure(err)}\n`);
    process.exitCode = EXIT_FAILURE;
  });
}

/** An error's message, followed by the system code of its cause and its own code. */
export function describeFailure(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // A coded error (BftpError, the examples' own) ends with its code, for scripts to match.
  const code = isBftpError(err) ? err.code : (err as { code?: unknown }).code;
  const cause = err.cause instanceof Error ? (err.cause as NodeJS.ErrnoException) : undefined;
  let text = err.message;
  if (cause?.code !== undefined && cause.code !== code && !text.includes(cause.code)) {
    text += ` (${cause.code})`;
  }
  if (typeof code === "string") text += ` [${code}]`;
  return text;
}

/** A TCP port, 0–65535 (0 asks the system for a free one). */
export function parsePort(text: string | undefined, fallback?: number): number {
  if (text === undefined) {
    if (fallback === undefined) throw new UsageError("Option --port is required");
    return fallback;
  }
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 0 && port <= 65535)) {
    throw new UsageError(`Cannot use port "${text}": expected a number from 0 to 65535`);
  }
  return port;
}

/** A whole number within `[min, max]`, for counts such as `--workers`. */
export function parseInteger(
  text: string | undefined,
  fallback: number,
  range: { readonly name: string; readonly min: number; readonly max: number },
): number {
  if (text === undefined) return fallback;
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(Number.isSafeInteger(value) && value >= range.min && value <= range.max)) {
    throw new UsageError(
      `Cannot use --${range.name} "${text}": expected a whole number from ${range.min} to ${range.max}`,
    );
  }
  return value;
}

/** A positive duration given in seconds (fractions allowed), returned in milliseconds. */
export function parseSeconds(
  text: string | undefined,
  fallbackSeconds: number,
  name: string,
): number {
  if (text === undefined) return fallbackSeconds * 1000;
  const seconds = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
  if (!(seconds > 0 && seconds <= 86_400)) {
    throw new UsageError(`Cannot use --${name} "${text}": expected seconds, e.g. 30 or 0.5`);
  }
  return Math.round(seconds * 1000);
}

const UNITS: Readonly<Record<string, number>> = {
  "": 1,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
};

/** A byte count: a whole number with an optional `KiB`, `MiB` or `GiB` suffix (`64KiB`). */
export function parseBytes(text: string | undefined, fallback: number, name: string): number {
  if (text === undefined) return fallback;
  const match = /^(\d+)(KiB|MiB|GiB)?$/.exec(text);
  const value = match ? Number(match[1]) * (UNITS[match[2] ?? ""] ?? NaN) : NaN;
  if (!(Number.isSafeInteger(value) && value >= 0)) {
    throw new UsageError(
      `Cannot use --${name} "${text}": expected a byte count such as 65536 or 64KiB`,
    );
  }
  return value;
}

/** `host:port` for messages, with brackets around an IPv6 address. */
export function formatAddress(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
