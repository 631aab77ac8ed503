import fs from "node:fs";
import path from "node:path";
import { parse, TomlError } from "smol-toml";
import type { Location } from "../client/location.js";
import { configDir } from "../config-dir.js";
import { BftpError } from "../errors.js";
import { DEFAULT_PORT, DEFAULT_TLS_PORT } from "../protocol/version.js";

/** The client's configuration file in the config folder (issue 13, item 5). */
export const CLIENT_CONFIG_FILE = "config.toml";

/** Largest configuration file read: it names servers, it is never large. */
const MAX_CONFIG_BYTES = 1024 * 1024;

/** A remote's name: what may come before the `:` of `NAME:PATH` (no `/`, no `:`). */
const REMOTE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/u;

/** One `[remotes.NAME]` table: where `NAME:PATH` goes. */
export interface RemoteConfig {
  host: string;
  port?: number;
  tls?: boolean;
  user?: string;
  path?: string;
}

/** Each key a remote may have, and what its value must be (checked by hand: no zod at start-up). */
const REMOTE_KEYS: Readonly<
  Record<keyof RemoteConfig, { ok: (v: unknown) => boolean; must: string }>
> = {
  host: { ok: (v) => isText(v, 1, 255), must: "must be a string of 1 to 255 characters" },
  port: {
    ok: (v) => Number.isSafeInteger(v) && (v as number) >= 1 && (v as number) <= 65535,
    must: "must be an integer from 1 to 65535",
  },
  tls: { ok: (v) => typeof v === "boolean", must: "must be true or false" },
  user: { ok: (v) => isText(v, 1, 255), must: "must be a string of 1 to 255 characters" },
  path: {
    ok: (v) => isText(v, 1, 4096) && (v as string).startsWith("/"),
    must: 'must be a string that starts with "/" (at most 4096 characters)',
  },
};

function isText(value: unknown, min: number, max: number): boolean {
  return typeof value === "string" && value.length >= min && value.length <= max;
}

function isTable(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date)
  );
}

/** The client configuration: the named remotes, and the file they came from. */
export interface ClientConfig {
  readonly file: string;
  readonly remotes: ReadonlyMap<string, RemoteConfig>;
}

const cache = new Map<string, ClientConfig>();

/**
 * Reads `config.toml` from the config folder (`--config-dir`, else `$XDG_CONFIG_HOME/bftp`,
 * else `~/.config/bftp`); a missing file is an empty configuration. TOML, read with smol-toml
 * (docs/cli.md, "Named remotes and saved logins", says why). Read synchronously and once per
 * process: a location is parsed before anything connects, and the file is small (capped at
 * 1 MiB). A file that does not
 * parse, or holds anything but `[remotes.NAME]` tables of known keys, is BFTP_ERR_LOCAL_FILE
 * naming it; a `password` key is refused with the way to a credentials file.
 *
 * @example
 * // [remotes.home]  host = "files.local"  user = "ann"  path = "/projects"
 * readClientConfig().remotes.get("home")?.host; // "files.local"
 */
export function readClientConfig(override?: string): ClientConfig {
  const file = path.join(configDir(override), CLIENT_CONFIG_FILE);
  const cached = cache.get(file);
  if (cached !== undefined) return cached;
  const config = { file, remotes: new Map(Object.entries(parseConfig(file))) };
  cache.set(file, config);
  return config;
}

function parseConfig(file: string): Record<string, RemoteConfig> {
  let text: string;
  try {
    const fd = fs.openSync(file, "r");
    try {
      if (fs.fstatSync(fd).size > MAX_CONFIG_BYTES) throw bad(file, "it is larger than 1 MiB");
      text = fs.readFileSync(fd, "utf8");
    } finally {
      fs.closeSync(fd);
    }
  } catch (err) {
    if (err instanceof BftpError) throw err;
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw bad(file, `it cannot be read (${(err as NodeJS.ErrnoException).code ?? "error"})`);
  }
  return parseClientConfig(text, file);
}

/**
 * The remotes of a configuration file's text, checked as {@link readClientConfig} checks
 * them; `file` names it in errors.
 */
export function parseClientConfig(text: string, file: string): Record<string, RemoteConfig> {
  let document: unknown;
  try {
    document = parse(text);
  } catch (err) {
    const where = err instanceof TomlError ? ` at line ${err.line}, column ${err.column}` : "";
    throw bad(file, `it is not valid TOML${where}`);
  }
  return checkConfig(document, file);
}

/** The remotes of a parsed document, or BFTP_ERR_LOCAL_FILE saying which key is wrong. */
function checkConfig(document: unknown, file: string): Record<string, RemoteConfig> {
  if (!isTable(document)) throw bad(file, "its top level: must be a table");
  for (const key of Object.keys(document)) {
    if (key === "password") throw holdsPassword(file, "");
    if (key !== "remotes") throw bad(file, `its top level: unknown key ${JSON.stringify(key)}`);
  }
  const { remotes } = document;
  if (remotes === undefined) return {};
  if (!isTable(remotes)) throw bad(file, "[remotes]: must be a table of [remotes.NAME] tables");
  const out: Record<string, RemoteConfig> = {};
  for (const [name, remote] of Object.entries(remotes)) {
    const at = `remotes.${name}`;
    if (!REMOTE_NAME.test(name)) {
      throw bad(file, `[${at}]: a remote's name is letters, digits, ".", "_" and "-" (up to 64)`);
    }
    if (!isTable(remote)) throw bad(file, `[${at}]: must be a table`);
    for (const key of Object.keys(remote)) {
      if (key === "password") throw holdsPassword(file, at);
      if (!Object.hasOwn(REMOTE_KEYS, key)) {
        throw bad(file, `[${at}]: unknown key ${JSON.stringify(key)}`);
      }
    }
    for (const [key, rule] of Object.entries(REMOTE_KEYS)) {
      const value = remote[key];
      if ((value !== undefined || key === "host") && !rule.ok(value)) {
        throw bad(file, `[${at}.${key}]: ${rule.must}`);
      }
    }
    // A plain object of the known keys (the TOML parser's tables are not plain objects).
    const copy: Record<string, unknown> = {};
    for (const key of Object.keys(REMOTE_KEYS)) {
      if (remote[key] !== undefined) copy[key] = remote[key];
    }
    out[name] = copy as unknown as RemoteConfig;
  }
  return out;
}

function holdsPassword(file: string, at: string): BftpError {
  return bad(
    file,
    `${at === "" ? "" : `[${at}] `}holds a password: passwords go in a credentials file only its owner can read (chmod 600), or in ~/.netrc`,
  );
}

function bad(file: string, why: string): BftpError {
  return new BftpError("BFTP_ERR_LOCAL_FILE", `Cannot use ${JSON.stringify(file)}: ${why}`);
}

/** True when `name` can be a remote's name (letters, digits, `.`, `_`, `-`; up to 64). */
export function isRemoteName(name: string): boolean {
  return REMOTE_NAME.test(name);
}

/**
 * The remote an argument names, when it is written `NAME:PATH` (issue 13, item 5): NAME is
 * letters, digits, `.`, `_` and `-` (so no `/` comes before the colon: `./a:b` and `/x/a:b`
 * are paths), and either is configured or is longer than one character (`C:\x` is a Windows
 * drive unless a remote is named `C`). Undefined for anything else.
 */
export function remoteNameOf(text: string, config: ClientConfig): string | undefined {
  const colon = text.indexOf(":");
  if (colon < 1) return undefined;
  const name = text.slice(0, colon);
  if (!REMOTE_NAME.test(name)) return undefined;
  if (name.length === 1 && !config.remotes.has(name)) return undefined;
  return name;
}

/**
 * The location of `NAME:PATH`: the remote's host, port, TLS and user; PATH relative to its
 * `path` (default `/`), or absolute when it starts with `/`; `NAME:` alone is that folder.
 * PATH is taken as written (no percent-escapes). An unknown NAME is BFTP_ERR_UNKNOWN_REMOTE,
 * naming the configuration file.
 */
export function remoteLocation(text: string, name: string, config: ClientConfig): Location {
  const remote = config.remotes.get(name);
  if (remote === undefined) {
    const known = [...config.remotes.keys()];
    throw new BftpError(
      "BFTP_ERR_UNKNOWN_REMOTE",
      `Cannot use ${JSON.stringify(text)}: no remote named ${JSON.stringify(name)} in ${config.file} (${known.length === 0 ? "it defines none" : `it defines ${known.join(", ")}`}; add a [remotes.${name}] table, or write ./${text} for a local path)`,
      { details: { name, file: config.file } },
    );
  }
  const rest = text.slice(name.length + 1);
  const home = remote.path ?? "/";
  const tls = remote.tls ?? false;
  return {
    host: remote.host,
    port: remote.port ?? (tls ? DEFAULT_TLS_PORT : DEFAULT_PORT),
    tls,
    user: remote.user,
    path: rest === "" ? home : rest.startsWith("/") ? rest : path.posix.join(home, rest),
  };
}
