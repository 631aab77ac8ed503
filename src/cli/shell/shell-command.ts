import fs from "node:fs/promises";
import { Command } from "commander";
import { escapeControls } from "../../client/safe-name.js";
import {
  EXIT,
  LOGIN_HINT,
  USER_OPTION,
  IDENTITY_OPTION,
  connectFailure,
  credentialsFor,
  location,
  reportError,
  withHint,
} from "../common.js";
import { addHostTrustOptions, hostTrustOptions } from "../host-trust-options.js";
import { seconds } from "../options.js";
import { shouldDraw } from "../progress-display.js";
import { historyPath } from "./history.js";
import { localError } from "./local-path.js";
import { runShell } from "./run-shell.js";
import { ShellSession } from "./shell-session.js";

interface ShellFlags {
  history: boolean;
  quiet: boolean | undefined;
  stopOnError: boolean | undefined;
  batch: string | undefined;
  timeout: number | undefined;
  user: string | undefined;
  identity: string | undefined;
  acceptNew: boolean | undefined;
  configDir: string | undefined;
}

const HELP_AFTER = `
At a terminal the shell prompts with the remote folder (bftp:/docs>), completes commands
and paths with Tab, keeps a history (Up/Down; saved in $XDG_STATE_HOME/bftp/history or
~/.local/state/bftp/history, 1000 lines, mode 0600), and draws progress bars. Type help
inside it for the commands: get, put, mget, mput, mirror, ls, cd, pwd, stat, hash, mkdir,
rmdir, rm, mv, lcd, lls, lpwd, progress, !, help, quit. Each remote command runs the same
operation as the bftp command of the same name (mirror: bftp sync).

When standard input is not a terminal it runs one command per line, with no prompt: a
script. It goes on after a failing command, and exits with the code of the first failure
(--stop-on-error stops there instead); # starts a comment. Each failed line is named on
stderr as "bftp: stdin:LINE: COMMAND: failed (exit N)". -b FILE runs FILE as sftp -b does:
it stops at the first failing command, naming FILE:LINE, unless the command is written
with a leading "-" (-rm old.txt may fail).

Examples:
  bftp shell bftp://127.0.0.1:9921
  bftp shell bftp://files.local/docs                 start in /docs
  bftp shell bftp://alice@files.local                log in as alice (asks the password)
  printf 'mkdir -p out\\nput report.pdf out/\\n' | bftp shell bftp://127.0.0.1:9921
  bftp shell --stop-on-error bftp://127.0.0.1:9921 < nightly.bftp
  bftp shell -b nightly.bftp bftp://127.0.0.1:9921   the same, as sftp -b
  bftp shell bftps://files.local                     TLS (port 9922); asks to trust it once

Exit codes:
  0  quit or end of input (scripted: and every command succeeded)
  1  scripted: a command failed (the server refused, a local file problem)
  2  scripted: a command was written wrongly (unknown command or option, bad quoting)
  3  could not connect (nothing listening: start one with "bftp serve DIR"), or a
     bftps:// server's certificate is not trusted (unknown, or changed)
  4  the connection was lost
  5  scripted: a recursive transfer finished with some files failed or skipped`;

/** `bftp shell bftp[s]://host[:port][/folder]`: the interactive (or scripted) session. */
export function shellCommand(): Command {
  return addHostTrustOptions(
    new Command("shell")
      .description("Work on a server interactively, like sftp (or run commands from a script)")
      .argument("<location>", "the server, and optionally the folder to start in")
      .option("--no-history", "do not read or save the history file")
      .option("-q, --quiet", "no result lines for transfers, no progress bars")
      .option("--stop-on-error", "scripted: stop at the first failing command")
      .option(
        "-b, --batch <file>",
        "run the commands of FILE, stopping at the first failure (sftp -b)",
      )
      .option(USER_OPTION.flags, USER_OPTION.description)
      .option(IDENTITY_OPTION.flags, IDENTITY_OPTION.description)
      .option(
        "--timeout <seconds>",
        "give up connecting, or on a stalled transfer, after this long",
        seconds,
      ),
  )
    .addHelpText("after", HELP_AFTER)
    .action(async (where: string, flags: ShellFlags) => {
      process.exitCode = await shell(where, flags);
    });
}

async function shell(where: string, flags: ShellFlags): Promise<number> {
  let session: ShellSession;
  try {
    const target = location(where, flags);
    const credentials = await credentialsFor(target, flags);
    try {
      session = await ShellSession.open(target, {
        ...credentials,
        ...(flags.timeout === undefined ? {} : { timeoutMs: flags.timeout }),
        ...(target.tls ? { tls: hostTrustOptions(flags) } : {}),
      });
    } catch (err) {
      throw connectFailure(err, target);
    }
  } catch (err) {
    return reportError(withHint(err, "BFTP_ERR_NOT_AUTHENTICATED", LOGIN_HINT));
  }
  const stdin: { isTTY?: boolean } = process.stdin; // undefined on a pipe, whatever the types say
  const batch = flags.batch;
  const interactive = batch === undefined && stdin.isTTY === true;
  let input: NodeJS.ReadableStream = process.stdin;
  if (batch !== undefined) {
    const handle = await fs
      .open(batch)
      .catch((err: unknown) => {
        throw localError(err, `Cannot read the batch file ${JSON.stringify(batch)}`);
      })
      .catch((err: unknown) => err as Error);
    if (handle instanceof Error) {
      await session.close();
      return reportError(handle);
    }
    input = handle.createReadStream();
  }
  const quiet = flags.quiet === true;
  if (interactive && !quiet) {
    process.stdout.write(
      `Connected to ${session.where} (${escapeControls(session.client.server.server)}). Type help for the commands.\n`,
    );
  }
  try {
    return await runShell(session, {
      input,
      output: process.stdout,
      errorOutput: process.stderr,
      interactive,
      quiet,
      stopOnError: flags.stopOnError === true || batch !== undefined,
      scriptName: batch ?? "stdin",
      historyFile: flags.history ? historyPath() : undefined,
      drawProgress: shouldDraw({ quiet }),
    });
  } catch (err) {
    reportError(err);
    return EXIT.failed;
  } finally {
    await session.close();
  }
}
