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
