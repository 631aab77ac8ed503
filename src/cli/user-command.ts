import { Command } from "commander";
import { configDir } from "../config-dir.js";
import { BftpError } from "../errors.js";
import { hashPassword } from "../server/accounts/password-hash.js";
import { PERMISSIONS, parsePermissions, type Permission } from "../server/accounts/permissions.js";
import {
  ANONYMOUS,
  USER_NAME,
  loadUsers,
  saveUsers,
  usersFilePath,
  type UserRecord,
} from "../server/accounts/users-file.js";
import {
  MAX_KEYS_PER_USER,
  MAX_KEY_LINE,
  parseAuthorizedKey,
  type PublicKey,
} from "../server/accounts/public-keys.js";
import { normalizeVirtual } from "../server/sandbox.js";
import { runAction, say, sayJson, usageError, type CommonFlags } from "./common.js";
import { PASSWORD_ENV, readPassword } from "./password-input.js";

interface UserFlags extends CommonFlags {
  configDir?: string;
}

interface AddFlags extends UserFlags {
  root: string;
  readOnly?: boolean;
  permissions?: string;
}

const RESTART = "bftp serve reads the users file when it starts: restart it to apply";

const HELP_AFTER = `
The users file is users.json in the configuration folder: --config-dir DIR, else
$XDG_CONFIG_HOME/bftp, else ~/.config/bftp (mode 0600; passwords stored as scrypt hashes,
each with its parameters and a random salt). A server whose users file has accounts
requires a login (bftp serve --anonymous also lets anyone in, read-only by default).

Passwords are typed at the terminal without echo (twice), or taken from ${PASSWORD_ENV}
in scripts; never from the command line, where process listings would show them.

Permissions: ${PERMISSIONS.join(", ")}
  read    GET, LIST, STAT, HASH, CD, PWD
  write   PUT (new files), RESUME
  delete  DELETE, RMDIR, RENAME, and replacing a file (put --overwrite, mv --overwrite)
  mkdir   MKDIR

Examples:
  bftp user add alice                          all permissions, root = the served folder
  bftp user add bob --root /bob --read-only    only /bob (created at start), read only
  bftp user add drop --permissions write,mkdir a drop box: add files, never read or remove
  ${PASSWORD_ENV}=s3cret bftp user passwd alice  set a password from a script
  bftp user add-key alice ~/.ssh/id_ed25519.pub  alice may log in with that key (bftp -i, sftp)
  bftp user keys alice                         the keys, with their SHA256 fingerprints
  bftp user list --json
  bftp user del bob`;

/** `bftp user add|del|list|passwd`: the accounts of the server on this machine (issue 7). */
export function userCommand(): Command {
  const configOption = (c: Command): Command =>
    c.option("--config-dir <dir>", "the configuration folder holding users.json");
  const user = new Command("user")
    .description("Manage the accounts of bftp serve (the users file)")
    .addHelpText("after", HELP_AFTER);
  user.addCommand(
    configOption(
      new Command("add")
        .description("Add an account; asks for its password")
        .argument("<name>", "letters, digits, '.', '_', '-'; at most 64")
        .option("--root <dir>", "the account's folder inside the served one", "/")
        .option("--read-only", "only the read permission")
        .option("--permissions <list>", `comma-separated, from: ${PERMISSIONS.join(",")}`)
        .option("--json", "print one JSON document on stdout")
        .addHelpText(
          "after",
          `
Examples:
  bftp user add alice                          asks the password twice, without echo
  bftp user add bob --root /bob --read-only    confined to /bob, read only
  ${PASSWORD_ENV}=s3cret bftp user add ci --permissions read,write   from a script

Run "bftp user --help" for the permissions and where the users file lives.`,
        ),
    ).action(async (name: string, flags: AddFlags) => {
      await runAction(flags, () => addUser(name, flags));
    }),
  );
  user.addCommand(
    configOption(
      new Command("del")
        .alias("rm")
        .description("Remove an account")
        .argument("<name>")
        .option("--json", "print one JSON document on stdout"),
    ).action(async (name: string, flags: UserFlags) => {
      await runAction(flags, () => editUsers(flags, name, "deleted", () => undefined));
    }),
  );
  user.addCommand(
    configOption(
      new Command("passwd")
        .description("Set an account's password; asks for it")
        .argument("<name>")
        .option("--json", "print one JSON document on stdout")
        .addHelpText(
          "after",
          `
Examples:
  bftp user passwd alice                       asks twice, without echo
  ${PASSWORD_ENV}=s3cret bftp user passwd alice  from a script

Restart bftp serve to apply.`,
        ),
    ).action(async (name: string, flags: UserFlags) => {
      await runAction(flags, async () => {
        const password = await readPassword({
          prompt: `New password for ${name}: `,
          confirm: true,
        });
        const hash = await hashPassword(password);
        return editUsers(flags, name, "password changed", (u) => ({ ...u, password: hash }));
      });
    }),
  );
  user.addCommand(
    configOption(
      new Command("add-key")
        .description(
          "Let an account log in with public keys (OpenSSH .pub or authorized_keys lines)",
        )
        .argument("<name>")
        .argument("<file>", "a .pub file or authorized_keys file; - reads standard input")
        .option("--json", "print one JSON document on stdout")
        .addHelpText(
          "after",
          `
Each line of FILE that is a key (ssh-ed25519, ecdsa-sha2-nistp256/384/521, or ssh-rsa of
2048 bits or more) is added; blank lines and # comments are skipped; a line with
authorized_keys options (from=, command=) is refused: bftp has none to honour. A key the
account already has is reported and skipped. At most ${MAX_KEYS_PER_USER} keys per account.

The account then logs in with its key over BFTP (bftp -i KEYFILE, or a key in ssh-agent)
and over SFTP (sftp, scp, rclone, FileZilla). Restart bftp serve to apply.

Examples:
  bftp user add-key alice ~/.ssh/id_ed25519.pub
  cat keys.pub | bftp user add-key ci -`,
        ),
    ).action(async (name: string, file: string, flags: UserFlags) => {
      await runAction(flags, () => addKeys(name, file, flags));
    }),
  );
  user.addCommand(
    configOption(
      new Command("keys")
        .description("List an account's public keys: type, SHA256 fingerprint, comment")
        .argument("<name>")
        .option("--json", "print one JSON document on stdout"),
    ).action(async (name: string, flags: UserFlags) => {
      await runAction(flags, () => listKeys(name, flags));
    }),
  );
  user.addCommand(
    configOption(
      new Command("remove-key")
        .description("Remove one of an account's public keys, named by its fingerprint")
        .argument("<name>")
        .argument("<fingerprint>", "SHA256:... as bftp user keys or ssh-keygen -l prints it")
        .option("--json", "print one JSON document on stdout"),
    ).action(async (name: string, fingerprint: string, flags: UserFlags) => {
      await runAction(flags, () => removeKey(name, fingerprint, flags));
    }),
  );
  user.addCommand(
    configOption(
      new Command("list")
        .alias("ls")
        .description("List the accounts: name, root, permissions")
        .option("--json", "print one JSON document on stdout"),
    ).action(async (flags: UserFlags) => {
      await runAction(flags, () => listUsers(flags));
    }),
  );
  return user;
}

function fileOf(flags: UserFlags): string {
  return usersFilePath(configDir(flags.configDir));
}

async function addUser(name: string, flags: AddFlags): Promise<number> {
  if (!USER_NAME.test(name) || name === ANONYMOUS) {
    throw usageError(
      `Cannot add user ${JSON.stringify(name)}: a name is 1 to 64 letters, digits, '.', '_' or '-', not starting with '.' or '-', and not "${ANONYMOUS}"`,
    );
  }
  if (flags.readOnly === true && flags.permissions !== undefined) {
    throw usageError("Cannot use --read-only with --permissions: choose one");
  }
  const permissions: Permission[] =
    flags.readOnly === true
      ? ["read"]
      : flags.permissions === undefined
        ? [...PERMISSIONS]
        : parsePermissions(flags.permissions);
  let root: string;
  try {
    root = normalizeVirtual("/", flags.root);
  } catch (err) {
    throw usageError(`Cannot use --root ${JSON.stringify(flags.root)}: ${(err as Error).message}`);
  }
  const file = fileOf(flags);
  const users = await loadUsers(file);
  if (users.users.some((u) => u.name === name)) {
    throw new BftpError("BFTP_ERR_EXISTS", `Cannot add user ${JSON.stringify(name)}: it exists`);
  }
  const password = await readPassword({ prompt: `Password for ${name}: `, confirm: true });
  const record: UserRecord = { name, root, permissions, password: await hashPassword(password) };
  await saveUsers(file, { ...users, users: [...users.users, record] });
  say(
    flags,
    `added ${name} (root ${root}; ${permissions.join(", ") || "no permissions"}); ${RESTART}`,
  );
  sayJson(flags, { ok: true, file, user: { name, root, permissions } });
  return 0;
}

/** Replaces (or, when `change` returns undefined, removes) the account `name`. */
async function editUsers(
  flags: UserFlags,
  name: string,
  done: string,
  change: (user: UserRecord) => UserRecord | undefined,
  options: { readonly quiet?: boolean } = {},
): Promise<number> {
  const file = fileOf(flags);
  const users = await loadUsers(file);
  const found = users.users.find((u) => u.name === name);
  if (found === undefined) {
    throw new BftpError(
      "BFTP_ERR_NOT_FOUND",
      `Cannot find user ${JSON.stringify(name)} in ${JSON.stringify(file)}`,
    );
  }
  const changed = change(found);
  const rest = users.users.flatMap((u) =>
    u !== found ? [u] : changed === undefined ? [] : [changed],
  );
  await saveUsers(file, { ...users, users: rest });
  if (options.quiet === true) return 0;
  say(flags, `${name}: ${done}; ${RESTART}`);
  sayJson(flags, { ok: true, file, user: name });
  return 0;
}

async function listUsers(flags: UserFlags): Promise<number> {
  const file = fileOf(flags);
  const { users } = await loadUsers(file);
  const rows = users.map((u) => ({ name: u.name, root: u.root, permissions: [...u.permissions] }));
  sayJson(flags, { ok: true, file, users: rows });
  if (rows.length === 0) say(flags, `no accounts in ${file}: bftp serve lets anyone in`);
  for (const row of rows)
    say(flags, `${row.name}  ${row.root}  ${row.permissions.join(",") || "-"}`);
  return 0;
}

/** Largest key file read: 100 lines of the longest keys, with room for comments. */
const MAX_KEY_FILE = MAX_KEYS_PER_USER * MAX_KEY_LINE;

/** The key lines of `file` (`-`: standard input), parsed; a bad line fails naming its number. */
async function readKeyLines(file: string): Promise<PublicKey[]> {
  const text = await readBounded(file);
  const keys: PublicKey[] = [];
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    try {
      keys.push(parseAuthorizedKey(line));
    } catch (err) {
      throw usageError(`${file === "-" ? "stdin" : file}:${i + 1}: ${(err as Error).message}`);
    }
  }
  if (keys.length === 0) throw usageError(`Cannot add keys from ${file}: it holds no key line`);
  return keys;
}

async function readBounded(file: string): Promise<string> {
  const { open } = await import("node:fs/promises");
  const chunks: Buffer[] = [];
  let size = 0;
  const add = (chunk: Buffer): void => {
    size += chunk.length;
    if (size > MAX_KEY_FILE)
      throw usageError(`Cannot read keys from ${file}: it is over ${MAX_KEY_FILE} bytes`);
    chunks.push(chunk);
  };
  if (file === "-") {
    for await (const chunk of process.stdin) add(chunk as Buffer);
  } else {
    let handle;
    try {
      handle = await open(file, "r");
    } catch (err) {
      const errno = (err as { code?: unknown }).code;
      throw new BftpError("BFTP_ERR_LOCAL_FILE", `Cannot read ${JSON.stringify(file)}`, {
        cause: err,
        details: typeof errno === "string" ? { errno } : {},
      });
    }
    try {
      for await (const chunk of handle.createReadStream()) add(chunk as Buffer);
    } finally {
      await handle.close();
    }
  }
  return Buffer.concat(chunks).toString("utf8");
}

async function addKeys(name: string, file: string, flags: UserFlags): Promise<number> {
  const keys = await readKeyLines(file);
  const added: PublicKey[] = [];
  const skipped: PublicKey[] = [];
  await editUsers(
    flags,
    name,
    "keys changed",
    (u) => {
      const have = (u.keys ?? []).map((line) => parseAuthorizedKey(line));
      for (const key of keys) {
        if ([...have, ...added].some((k) => k.fingerprint === key.fingerprint)) skipped.push(key);
        else added.push(key);
      }
      const lines = [...have, ...added].map((k) => k.line);
      if (lines.length > MAX_KEYS_PER_USER) {
        throw usageError(`Cannot add keys to ${name}: an account has at most ${MAX_KEYS_PER_USER}`);
      }
      return { ...u, keys: lines };
    },
    { quiet: true },
  );
  for (const key of added)
    say(flags, `added ${key.type} ${key.fingerprint} ${key.comment}`.trimEnd());
  for (const key of skipped) say(flags, `already there: ${key.type} ${key.fingerprint}`);
  say(flags, RESTART);
  sayJson(flags, {
    ok: true,
    user: name,
    added: added.map(keyJson),
    skipped: skipped.map(keyJson),
  });
  return 0;
}

async function listKeys(name: string, flags: UserFlags): Promise<number> {
  const file = fileOf(flags);
  const found = (await loadUsers(file)).users.find((u) => u.name === name);
  if (found === undefined) {
    throw new BftpError(
      "BFTP_ERR_NOT_FOUND",
      `Cannot find user ${JSON.stringify(name)} in ${JSON.stringify(file)}`,
    );
  }
  const keys = (found.keys ?? []).map((line) => parseAuthorizedKey(line));
  sayJson(flags, { ok: true, user: name, keys: keys.map(keyJson) });
  if (keys.length === 0) say(flags, `${name} has no keys: it logs in with its password`);
  for (const key of keys) say(flags, `${key.type}  ${key.fingerprint}  ${key.comment}`.trimEnd());
  return 0;
}

async function removeKey(name: string, fingerprint: string, flags: UserFlags): Promise<number> {
  let removed: PublicKey | undefined;
  await editUsers(
    flags,
    name,
    "key removed",
    (u) => {
      const keys = (u.keys ?? []).map((line) => parseAuthorizedKey(line));
      removed = keys.find((k) => k.fingerprint === fingerprint);
      if (removed === undefined) {
        throw new BftpError(
          "BFTP_ERR_NOT_FOUND",
          `Cannot find key ${fingerprint} among ${name}'s keys (bftp user keys ${name} lists them)`,
        );
      }
      return { ...u, keys: keys.filter((k) => k !== removed).map((k) => k.line) };
    },
    { quiet: true },
  );
  say(flags, `${name}: removed ${fingerprint}; ${RESTART}`);
  sayJson(flags, { ok: true, user: name, removed: fingerprint });
  return 0;
}

function keyJson(key: PublicKey): { type: string; fingerprint: string; comment: string } {
  return { type: key.type, fingerprint: key.fingerprint, comment: key.comment };
}
