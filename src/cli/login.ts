import os from "node:os";
import path from "node:path";
import type { Location } from "../client/location.js";
import { configDir } from "../config-dir.js";
import { ANONYMOUS } from "../protocol/version.js";
import { savedLogin, type NetrcEntry } from "./netrc.js";
import { PASSWORD_ENV, readPassword } from "./password-input.js";

/** Who to log in as, and the password (typed without echo, or `BFTP_PASSWORD`). */
export interface Credentials {
  readonly user?: string;
  readonly password?: string;
}

/**
 * The credentials for `where` (issue 7; issue 13, item 5). The user: `--user`, else the
 * location's (`bftp://USER@` or the named remote's `user`), else the login saved for the host.
 * The password, for any user but "anonymous": `BFTP_PASSWORD`, else the one saved for the
 * host and user (the config folder's `credentials`, then `$NETRC` or `~/.netrc`; files others
 * can read are refused), else a prompt without echo. Never from the command line.
 */
export async function credentialsFor(
  where: Location,
  flags: { readonly user?: string | undefined; readonly configDir?: string | undefined },
): Promise<Credentials> {
  let user = flags.user ?? where.user;
  if (user === ANONYMOUS) return { user };
  const typed = process.env[PASSWORD_ENV] !== undefined;
  const saved =
    user !== undefined && typed ? undefined : await savedLoginFor(where, user, flags.configDir);
  if (user === undefined) {
    if (saved?.login === undefined) return {};
    user = saved.login;
    if (user === ANONYMOUS) return { user };
  }
  if (!typed && saved?.password !== undefined) return { user, password: saved.password };
  const password = await readPassword({ prompt: `Password for ${user}@${hostPort(where)}: ` });
  return { user, password };
}

/**
 * The login saved for `where`: bftp's own `credentials` in the config folder first, then
 * netrc (`$NETRC`, else `~/.netrc`), both in netrc's format (netrc.ts).
 */
async function savedLoginFor(
  where: Location,
  user: string | undefined,
  configDirOverride: string | undefined,
): Promise<NetrcEntry | undefined> {
  const netrc = process.env["NETRC"];
  const files = [
    path.join(configDir(configDirOverride), CREDENTIALS_FILE),
    netrc !== undefined && netrc !== "" ? netrc : path.join(os.homedir(), ".netrc"),
  ];
  for (const file of files) {
    const entry = await savedLogin(file, { host: where.host, port: where.port, user });
    if (entry !== undefined) return entry;
  }
  return undefined;
}

/** The file of saved logins in the config folder (netrc's format, mode 0600). */
export const CREDENTIALS_FILE = "credentials";

/** `HOST:PORT` of a location, IPv6 in brackets. */
export function hostPort(where: { readonly host: string; readonly port: number }): string {
  return where.host.includes(":") ? `[${where.host}]:${where.port}` : `${where.host}:${where.port}`;
}
