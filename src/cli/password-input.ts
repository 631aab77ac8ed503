import { StringDecoder } from "node:string_decoder";
import { BftpError } from "../errors.js";

/** The environment variable scripts set instead of typing a password (issue 7). */
export const PASSWORD_ENV = "BFTP_PASSWORD";

/** Longest password accepted (the protocol's LOGIN limit). */
export const MAX_PASSWORD_LENGTH = 1024;

/** How long a prompt waits for a person: five minutes. */
const PROMPT_TIMEOUT_MS = 5 * 60_000;

/** Options for {@link readPassword}. */
export interface PasswordOptions {
  /** What to ask, e.g. `Password for alice@host: `. */
  readonly prompt: string;
  /** Ask twice and insist the two match (setting a password). */
  readonly confirm?: boolean;
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * A password from `BFTP_PASSWORD`, or else typed at the terminal without echo. Never from the
 * command line: arguments show in process listings and shell history. Throws
 * `BFTP_ERR_INVALID_ARGUMENT` when there is neither (a script without the variable), and
 * `BFTP_ERR_ABORTED` on Ctrl-C or Ctrl-D.
 */
export async function readPassword(options: PasswordOptions): Promise<string> {
  const fromEnv = (options.env ?? process.env)[PASSWORD_ENV];
  if (fromEnv !== undefined) return checked(fromEnv);
  const stdin: { isTTY?: boolean } = process.stdin;
  if (stdin.isTTY !== true) {
    throw new BftpError(
      "BFTP_ERR_INVALID_ARGUMENT",
      `Cannot read a password: standard input is not a terminal; set ${PASSWORD_ENV}`,
    );
  }
  const first = await promptHidden(options.prompt);
  if (options.confirm === true) {
    const again = await promptHidden("Again: ");
    if (again !== first) {
      throw new BftpError("BFTP_ERR_INVALID_ARGUMENT", "Cannot set the password: the two differ");
    }
  }
  return checked(first);
}

function checked(password: string): string {
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw new BftpError(
      "BFTP_ERR_INVALID_ARGUMENT",
      `Cannot use the password: it is longer than ${MAX_PASSWORD_LENGTH} characters`,
    );
  }
  return password;
}

/**
 * Reads one line from the terminal in raw mode, so nothing typed is echoed; Backspace edits,
 * Enter ends, Ctrl-C and Ctrl-D (on an empty line) give up. The prompt goes to stderr, so
 * stdout stays the command's output.
 */
function promptHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  // Echo off before the prompt shows: what is typed as soon as it appears is not echoed.
  stdin.setRawMode(true);
  process.stderr.write(prompt);
  stdin.resume();
  const decoder = new StringDecoder("utf8");
  const typed: string[] = []; // code points, so Backspace removes a whole character
  return new Promise<string>((resolve, reject) => {
    const finish = (error?: BftpError): void => {
      clearTimeout(timer);
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write("\n");
      if (error === undefined) resolve(typed.join(""));
      else reject(error);
    };
    const timer = setTimeout(() => {
      finish(new BftpError("BFTP_ERR_TIMEOUT", "Cannot read the password: nothing typed in time"));
    }, PROMPT_TIMEOUT_MS);
    const onData = (chunk: Buffer): void => {
      for (const c of decoder.write(chunk)) {
        if (c === "\r" || c === "\n") {
          finish();
          return;
        }
        if (c === "\u0003" || (c === "\u0004" && typed.length === 0)) {
          finish(new BftpError("BFTP_ERR_ABORTED", "Cannot read the password: cancelled"));
          return;
        }
        if (c === "\u007f" || c === "\b") typed.pop();
        else if (c >= " " && typed.length <= MAX_PASSWORD_LENGTH) typed.push(c);
      }
    };
    stdin.on("data", onData);
  });
}
