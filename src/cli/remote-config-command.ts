import fs from "node:fs/promises";
import path from "node:path";
import { Command } from "commander";
import { stringify } from "smol-toml";
import { isDeepStrictEqual } from "node:util";
import { isLocation, parseLocation } from "../client/location.js";
import { configDir, writePrivateFile } from "../config-dir.js";
import { BftpError } from "../errors.js";
import { DEFAULT_PORT, DEFAULT_TLS_PORT } from "../protocol/version.js";
import {
  CLIENT_CONFIG_FILE,
  isRemoteName,
  parseClientConfig,
  type RemoteConfig,
} from "./client-config.js";
import { runAction, say, sayJson, usageError, type CommonFlags } from "./common.js";

interface RemoteFlags extends CommonFlags {
  configDir?: string;
}

const HELP_AFTER = `
Named remotes live in config.toml in the configuration folder (--config-dir DIR, else
$XDG_CONFIG_HOME/bftp, else ~/.config/bftp), one [remotes.NAME] table each, and make
NAME:PATH a location for every command: PATH is relative to the remote's folder, /PATH is
absolute. The file may be edited by hand; add and remove keep its comments. It never holds a
password: save one in the folder's credentials file or ~/.netrc (chmod 600).

Examples:
  bftp remote add home bftps://ann@files.local/projects   then: bftp ls home:
  bftp remote add lab bftp://10.0.0.5:9000/                 then: bftp get lab:a.txt
  bftp remote list
  bftp remote remove lab`;

/** `bftp remote add|list|remove`: the named remotes of config.toml (issue 13, item 5). */
export function remoteConfigCommand(): Command {
  const withFlags = (c: Command): Command =>
    c
      .option("--config-dir <dir>", "the configuration folder holding config.toml")
      .option("--json", "print one JSON document on stdout")
      .option("-q, --quiet", "print only errors");
  const remote = new Command("remote")
    .description("Name servers for NAME:PATH locations (config.toml)")
    .addHelpText("after", HELP_AFTER);
  remote.addCommand(
    withFlags(
      new Command("add")
        .description("Name a location: NAME:PATH then means LOCATION's server and folder")
        .argument("<name>", "letters, digits, '.', '_', '-'; at most 64")
        .argument("<location>", "bftp://[user@]host[:port]/folder or bftps://..."),
    ).action(async (name: string, where: string, flags: RemoteFlags) => {
      await runAction(flags, () => addRemote(name, where, flags));
    }),
  );
  remote.addCommand(
    withFlags(new Command("list").alias("ls").description("List the named remotes")).action(
      async (flags: RemoteFlags) => {
        await runAction(flags, () => listRemotes(flags));
      },
    ),
  );
  remote.addCommand(
    withFlags(
      new Command("remove").alias("rm").description("Forget a named remote").argument("<name>"),
    ).action(async (name: string, flags: RemoteFlags) => {
      await runAction(flags, () => removeRemote(name, flags));
    }),
  );
  return remote;
}

/** The configuration file, its text ("" when missing) and its remotes. */
async function load(flags: RemoteFlags) {
  const file = path.join(configDir(flags.configDir), CLIENT_CONFIG_FILE);
  let text = "";
  try {
    text = await fs.readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  return { file, text, remotes: parseClientConfig(text, file) };
}

async function addRemote(name: string, where: string, flags: RemoteFlags): Promise<number> {
  if (!isRemoteName(name)) {
    throw usageError(
      `Cannot name a remote ${JSON.stringify(name)}: use letters, digits, ".", "_" and "-" (at most 64)`,
    );
  }
  if (!isLocation(where)) {
    throw usageError(`Cannot use ${JSON.stringify(where)}: expected bftp://HOST[:PORT]/PATH`);
  }
  const at = parseLocation(where);
  const { file, text, remotes } = await load(flags);
  if (remotes[name] !== undefined) {
    throw new BftpError(
      "BFTP_ERR_EXISTS",
      `Cannot add the remote ${JSON.stringify(name)}: ${file} has one (bftp remote remove ${name} first)`,
    );
  }
  const entry: RemoteConfig = {
    host: at.host,
    ...(at.port === (at.tls ? DEFAULT_TLS_PORT : DEFAULT_PORT) ? {} : { port: at.port }),
    ...(at.tls ? { tls: true } : {}),
    ...(at.user === undefined ? {} : { user: at.user }),
    ...(at.path === "/" ? {} : { path: at.path }),
  };
  // Appended as a table of its own, so what the file says (comments too) stays as it was.
  const table = stringify({ remotes: { [name]: entry } });
  const separator = text === "" || text.endsWith("\n\n") ? "" : text.endsWith("\n") ? "\n" : "\n\n";
  const next = `${text}${separator}${table}\n`;
  checkEdit(next, file, { ...remotes, [name]: entry });
  await writePrivateFile(file, next);
  sayJson(flags, { ok: true, file, name, remote: entry });
  say(flags, `added ${name}: ${describe(entry)} (in ${file})`);
  return 0;
}

async function removeRemote(name: string, flags: RemoteFlags): Promise<number> {
  const { file, text, remotes } = await load(flags);
  if (remotes[name] === undefined) {
    throw new BftpError(
      "BFTP_ERR_UNKNOWN_REMOTE",
      `Cannot remove the remote ${JSON.stringify(name)}: ${file} has none of that name`,
      { details: { name, file } },
    );
  }
  // The table's lines go, from its header to the next table's: the rest stays as written.
  const lines = text.split("\n");
  const header = (line: string): boolean =>
    /^\s*\[\s*remotes\s*\.\s*("?)(.+)\1\s*\]\s*(#.*)?$/u.exec(line)?.[2] === name;
  const start = lines.findIndex(header);
  let end = start + 1;
  while (end < lines.length && !/^\s*\[/u.test(lines[end] ?? "")) end++;
  const next = start === -1 ? text : [...lines.slice(0, start), ...lines.slice(end)].join("\n");
  checkEdit(next, file, Object.fromEntries(Object.entries(remotes).filter(([n]) => n !== name)));
  await writePrivateFile(file, next);
  sayJson(flags, { ok: true, file, name });
  say(flags, `removed ${name} (from ${file})`);
  return 0;
}

/**
 * Refuses an edit whose result does not read back as exactly the remotes intended (a table
 * written in another form, dotted keys, an inline table): the file is then left alone.
 */
function checkEdit(next: string, file: string, expected: Record<string, RemoteConfig>): void {
  let actual: Record<string, RemoteConfig> | undefined;
  try {
    actual = parseClientConfig(next, file);
  } catch {
    actual = undefined;
  }
  if (actual === undefined || !isDeepStrictEqual(actual, expected)) {
    throw new BftpError(
      "BFTP_ERR_LOCAL_FILE",
      `Cannot edit ${JSON.stringify(file)} safely: its [remotes] are written in a form this command does not change; edit the file by hand`,
    );
  }
}

async function listRemotes(flags: RemoteFlags): Promise<number> {
  const { file, remotes } = await load(flags);
  sayJson(flags, { ok: true, file, remotes });
  const names = Object.keys(remotes).sort();
  if (names.length === 0) say(flags, `no remotes in ${file} (add one: bftp remote add NAME URL)`);
  const width = Math.max(0, ...names.map((n) => n.length));
  for (const name of names) {
    const entry = remotes[name];
    if (entry !== undefined) say(flags, `${name.padEnd(width)}  ${describe(entry)}`);
  }
  return 0;
}

/** A remote as the location it stands for. */
function describe(remote: RemoteConfig): string {
  const tls = remote.tls === true;
  const host = remote.host.includes(":") ? `[${remote.host}]` : remote.host;
  const port = remote.port ?? (tls ? DEFAULT_TLS_PORT : DEFAULT_PORT);
  const user = remote.user === undefined ? "" : `${encodeURIComponent(remote.user)}@`;
  return `${tls ? "bftps" : "bftp"}://${user}${host}:${port}${remote.path ?? "/"}`;
}
