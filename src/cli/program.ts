/**
 * The `bftp` program: its commands (those `builders` make), help, version, exit codes and
 * error handling; one run of it over `argv`. Used by the entry (bftp.ts) and by the client
 * bundle (client-main.ts), so a command behaves and prints alike either way.
 */
import { Command, CommanderError } from "commander";
import { PACKAGE_VERSION } from "../package-version.js";
import type { CommandBuilder } from "./client-command-table.js";

let readersGuarded = false;

/** A reader that goes away (bftp ... | head) is not an error. Once per process. */
function ignoreClosedReaders(): void {
  if (readersGuarded) return;
  readersGuarded = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
      throw err;
    });
  }
}

/** Parses `argv` (node's, program path included) and runs the command it names. */
export async function runProgram(
  argv: readonly string[],
  builders: readonly CommandBuilder[],
): Promise<void> {
  const program = new Command("bftp")
    .description("Move files between machines over TCP: fast, checked, resumable")
    .version(PACKAGE_VERSION, "-V, --version");
  for (const command of await Promise.all(builders.map((build) => build()))) {
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

  ignoreClosedReaders();

  // Settings are not inherited by commands attached with addCommand() (nor by their own).
  for (const command of program.commands) {
    for (const c of [command, ...command.commands])
      c.exitOverride().showHelpAfterError("(run with --help for usage)");
  }

  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with exit code 0; usage errors have printed their message.
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      if (err.exitCode !== 0 && argv.includes("--json")) {
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
}
