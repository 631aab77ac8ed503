#!/usr/bin/env node
/**
 * The `bftp` command: argument parsing and dispatch only (the CLI is thin: the work is in src/client).
 * Exit codes (common.ts EXIT): 0 success, 1 failure, 2 usage error, 3 cannot connect,
 * 4 connection lost, 5 a recursive transfer partly failed.
 */
import { Command, CommanderError } from "commander";
import { PACKAGE_VERSION } from "../package-version.js";

/**
 * Every command by name, in the order `bftp --help` lists them, and how to build it. Each
 * builder lives with its implementation and imports the client or the server, so a command's
 * module is imported only when the command line needs it (issue 12, item 4: start-up):
 * `bftp --version` loads none, `bftp get ...` loads only get's.
 */
const COMMANDS: readonly (readonly [string, () => Promise<Command>])[] = [
  ["serve", async () => (await import("./serve-command.js")).serveCommand()],
  ["get", async () => (await import("./get-command.js")).getCommand()],
  ["put", async () => (await import("./put-command.js")).putCommand()],
  ["sync", async () => (await import("./sync-command.js")).syncCommand()],
  // ls, stat, hash, mkdir, rm, rmdir: one table (remote-commands.ts), one builder.
  ...["ls", "stat", "hash", "mkdir", "rm", "rmdir"].map(
    (name) =>
      [name, async () => remoteCommand(await import("./remote-commands.js"), name)] as const,
  ),
  ["mv", async () => (await import("./mv-command.js")).mvCommand()],
  ["shell", async () => (await import("./shell/shell-command.js")).shellCommand()],
  ["bench", async () => (await import("./bench-command/bench-command.js")).benchCommand()],
  ["user", async () => (await import("./user-command.js")).userCommand()],
  ["remote", async () => (await import("./remote-config-command.js")).remoteConfigCommand()],
];

function remoteCommand(module: typeof import("./remote-commands.js"), name: string): Command {
  const command = module.remoteCommands().find((c) => c.name() === name);
  if (command === undefined) throw new Error(`No command "${name}" in remote-commands.ts`);
  return command;
}

/**
 * The commands this command line needs: none for the version, the one it names, or all of
 * them (for `bftp`, `--help`, `help CMD` and unknown commands, whose messages list them).
 */
function commandsFor(argv: readonly string[]): (() => Promise<Command>)[] {
  const first = argv[2];
  if (first === "-V" || first === "--version") return [];
  const named = COMMANDS.find(([name]) => name === first);
  return named === undefined ? COMMANDS.map(([, build]) => build) : [named[1]];
}

// `bftp serve` keeps V8's young generation small under load (issue 12, item 5) and its
// collections on the main thread (issue 12, item 1): set before the server's modules load,
// since V8 already grows the young generation while compiling them.
if (process.argv[2] === "serve") {
  const sources = { execArgv: process.execArgv, nodeOptions: process.env["NODE_OPTIONS"] };
  (await import("./young-generation.js")).keepYoungGenerationSmall(sources);
  (await import("./collector-threads.js")).collectOnMainThread(sources);
}

const program = new Command("bftp")
  .description("Move files between machines over TCP: fast, checked, resumable")
  .version(PACKAGE_VERSION, "-V, --version");
for (const command of await Promise.all(commandsFor(process.argv).map((build) => build()))) {
  program.addCommand(command);
}
program
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
    if (err.exitCode !== 0 && process.argv.includes("--json")) {
      // A script that asked for JSON gets the usage error as JSON too (issue 13, item 8).
      const { jsonLine } = await import("./common.js");
      const message = err.message.replace(/^error: /u, "");
      process.stdout.write(
        `${jsonLine({ ok: false, error: { code: "BFTP_ERR_INVALID_ARGUMENT", message } })}\n`,
      );
    }
  } else {
    process.stderr.write(`bftp: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
