import fs from "node:fs/promises";
import { BftpError } from "../errors.js";

/** One `machine` entry of a netrc file. */
export interface NetrcEntry {
  readonly machine: string;
  readonly login?: string;
  readonly password?: string;
}

/** Largest netrc or credentials file read. */
const MAX_NETRC_BYTES = 1024 * 1024;

/**
 * The `machine` entries of a netrc file, as curl, lftp and ftp read it: whitespace-separated
 * tokens (`"..."` quotes a token with spaces, `\"` and `\\` inside), `#` comments,
 * `machine NAME` starting an entry with `login`, `password` and `account` after it,
 * `macdef NAME` skipped to the next empty line. A `default` entry is ignored on purpose: bftp
 * sends a saved password only to the machine it was saved for.
 *
 * @example
 * parseNetrc("machine files.local login ann password s3cret");
 * // [{ machine: "files.local", login: "ann", password: "s3cret" }]
 */
export function parseNetrc(text: string): NetrcEntry[] {
  const entries: NetrcEntry[] = [];
  let current: { machine: string; login?: string; password?: string } | undefined;
  const tokens = tokenize(text);
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (token === undefined) break;
    if (token.macdef) continue;
    switch (token.text) {
      case "machine":
        current = { machine: tokens[++i]?.text ?? "" };
        entries.push(current);
        break;
      case "default":
        current = undefined;
        break;
      case "login":
      case "password":
      case "account": {
        const value = tokens[++i]?.text;
        if (current !== undefined && value !== undefined && token.text !== "account") {
          current[token.text] = value;
        }
        break;
      }
      default:
        break;
    }
  }
  return entries;
}

interface Token {
  readonly text: string;
  /** A macro body's text, skipped. */
  readonly macdef: boolean;
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] ?? "";
    if (/\s/u.test(c)) {
      i++;
    } else if (c === "#") {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (c === '"') {
      let value = "";
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === "\\" && i + 1 < text.length) i++;
        value += text[i] ?? "";
        i++;
      }
      i++;
      tokens.push({ text: value, macdef: false });
    } else {
      const start = i;
      while (i < text.length && !/\s/u.test(text[i] ?? "")) i++;
      const word = text.slice(start, i);
      tokens.push({ text: word, macdef: false });
      if (word === "macdef") {
        // The macro's name, then its body up to an empty line.
        const end = text.indexOf("\n\n", i);
        tokens.push({ text: text.slice(i, end === -1 ? text.length : end), macdef: true });
        i = end === -1 ? text.length : end + 2;
      }
    }
  }
  return tokens;
}

/**
 * The saved login for `host` (and `port`) in a netrc-format file, or undefined when the file
 * is missing or has no entry for it. `machine HOST:PORT` is preferred to `machine HOST`; with
 * `user` known, only an entry with that login (or none) applies. A file that has an entry to
 * use but is readable by group or others is refused, as ssh refuses such a key
 * (BFTP_ERR_INSECURE_FILE, naming the file and `chmod 600`): the mode is read from the open
 * file, so it is the file that is read.
 */
export async function savedLogin(
  file: string,
  target: { readonly host: string; readonly port: number; readonly user: string | undefined },
): Promise<NetrcEntry | undefined> {
  let handle;
  try {
    handle = await fs.open(file, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new BftpError(
      "BFTP_ERR_LOCAL_FILE",
      `Cannot read ${JSON.stringify(file)}: ${(err as NodeJS.ErrnoException).code ?? "error"}`,
      { cause: err },
    );
  }
  let text: string;
  let mode: number;
  try {
    const stats = await handle.stat();
    if (!stats.isFile() || stats.size > MAX_NETRC_BYTES) {
      throw new BftpError(
        "BFTP_ERR_LOCAL_FILE",
        `Cannot read ${JSON.stringify(file)}: not a file of at most 1 MiB`,
      );
    }
    mode = stats.mode;
    text = await handle.readFile("utf8");
  } finally {
    await handle.close();
  }
  const hosts = [`${target.host}:${target.port}`, target.host];
  const entries = parseNetrc(text);
  for (const host of hosts) {
    const entry = entries.find(
      (e) =>
        e.machine === host &&
        (target.user === undefined || e.login === undefined || e.login === target.user),
    );
    if (entry === undefined) continue;
    if ((mode & 0o077) !== 0) {
      throw new BftpError(
        "BFTP_ERR_INSECURE_FILE",
        `Cannot use the password in ${JSON.stringify(file)}: others can read the file (mode ${(mode & 0o777).toString(8).padStart(4, "0")}); make it private with chmod 600 ${JSON.stringify(file)}`,
        { details: { file } },
      );
    }
    return entry;
  }
  return undefined;
}
