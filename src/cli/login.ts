import os from "node:os";
import path from "node:path";
import type { Location } from "../client/location.js";
import { configDir } from "../config-dir.js";
import { ANONYMOUS } from "../protocol/version.js";
import { savedLogin, type NetrcEntry } from "./netrc.js";
import { PASSWORD_ENV, readPassword } from "./password-input.js";
import type { KeySigner } from "../protocol/key-login.js";
import { BftpError } from "../errors.js";

/**
 * Who to log in as, and how: the password (`BFTP_PASSWORD` or saved), a key (`-i`), keys in
 * ssh-agent, or a prompt without echo asked only when the password is needed.
 */
export interface Credentials {
  readonly user?: string;
  readonly password?: string;
  readonly identity?: KeySigner;
  readonly agentKeys?: () => Promise<readonly KeySigner[]>;
  readonly askPassword?: () => Promise<string>;
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
  flags: {
    readonly user?: string | undefined;
    readonly configDir?: string | undefined;
    readonly identity?: string | undefined;
  },
): Promise<Credentials> {
  let user = flags.user ?? where.user;
  if (user === ANONYMOUS) return { user };
  const typed = process.env[PASSWORD_ENV] !== undefined;
  const saved =
    user !== undefined && typed ? undefined : await savedLoginFor(where, user, flags.configDir);
  if (user === undefined) {
    if (saved?.login === undefined && flags.identity !== undefined) {
      throw new BftpError(
        "BFTP_ERR_INVALID_ARGUMENT",
        "Cannot log in with -i without a user: give --user NAME or bftp://NAME@host",
      );
    }
    if (saved?.login === undefined) return {};
    user = saved.login;
    if (user === ANONYMOUS) return { user };
  }
  if (flags.identity !== undefined) return { user, identity: await identityOf(flags.identity) };
  if (typed) return { user, password: await readPassword({ prompt: "" }) };
  if (saved?.password !== undefined) return { user, password: saved.password };
  const prompt = `Password for ${user}@${hostPort(where)}: `;
  const agent = process.env["SSH_AUTH_SOCK"];
  return {
    user,
    askPassword: () => readPassword({ prompt }),
    ...(agent === undefined || agent === ""
      ? {}
      : {
          agentKeys: async () => (await import("../client/key-signer.js")).agentSigners(agent),
        }),
  };
}

/** The signer of the key file `-i` names; an encrypted key's passphrase is asked at a terminal. */
async function identityOf(file: string): Promise<KeySigner> {
  const { isEncryptedKey, keyFileSigner } = await import("../client/key-signer.js");
  if (!(await isEncryptedKey(file))) return keyFileSigner(file);
  const stdin: { isTTY?: boolean } = process.stdin;
  if (stdin.isTTY !== true) {
    throw new BftpError(
      "BFTP_ERR_LOCAL_FILE",
      `Cannot use the key ${JSON.stringify(file)}: it is encrypted and there is no terminal to ask its passphrase; load it into ssh-agent (ssh-add ${file}) instead`,
    );
  }
  // Its own prompt: BFTP_PASSWORD is the account's password, never a key's passphrase.
  const passphrase = await readPassword({ prompt: `Passphrase for ${file}: `, env: {} });
  return keyFileSigner(file, passphrase);
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
