#!/usr/bin/env node
/**
 * The `bftp` command: argument parsing and dispatch only (DESIGN.md: the CLI is thin).
 * Exit codes (common.ts EXIT): 0 success, 1 failure, 2 usage error, 3 cannot connect,
 * 4 connection lost, 5 a recursive transfer partly failed.
 */
import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { benchCommand } from "./bench-command/bench-command.js";
import { getCommand } from "./get-command.js";
import { mvCommand } from "./mv-command.js";
import { putCommand } from "./put-command.js";
import { remoteCommands } from "./remote-commands.js";
import { serveCommand } from "./serve-command.js";
import { shellCommand } from "./shell/shell-command.js";
import { userCommand } from "./user-command.js";

const VERSION = (
  JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as {
    version: string;
  }
).version;

const program = new Command("bftp")
  .description("Move files between machines over TCP: fast, checked, resumable")
  .version(VERSION, "-V, --version")
  .addCommand(serveCommand())
  .addCommand(getCommand())
  .addCommand(putCommand());
// ls, stat, hash, mkdir, rm, rmdir: one table (remote-commands.ts), one builder.
for (const command of remoteCommands()) program.addCommand(command);
program
  .addCommand(mvCommand())
  .addCommand(shellCommand())
  .addCommand(benchCommand())
  .addCommand(userCommand())
  .showHelpAfterError("(run with --help for usage)")
  .exitOverride()
  .addHelpText(
    "after",
    `
Examples:
  bftp serve ~/shared                          share a folder on 127.0.0.1:9921
  bftp ls bftp://127.0.0.1/                    list it from another terminal
  bftp get bftp://127.0.0.1/report.pdf         download (./report.pdf)
  bftp put -r photos bftp://127.0.0.1/backup   upload a folder
  bftp bench bftp://127.0.0.1                  check the server: speed, memory, integrity
  bftp serve ~/shared --tls                    the same over TLS, on port 9922
  bftp shell bftps://127.0.0.1                 checks the server's certificate fingerprint

Exit codes: 0 success, 1 failure, 2 usage error, 3 cannot connect, 4 connection lost,
5 a recursive transfer partly failed.
Protocol: PROTOCOL.md. Run \`bftp <command> --help\` for examples.`,
  );

// A reader that goes away (bftp ... | head) is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw err;
  });
}

// Settings are not inherited by commands attached with addCommand() (nor by their own).
for (const command of program.commands) {
  for (const c of [command, ...command.commands])
    c.exitOverride().showHelpAfterError("(run with --help for usage)");
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // --help and --version end here with exit code 0; usage errors have printed their message.
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else {
    process.stderr.write(`bftp: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
