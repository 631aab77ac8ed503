#!/usr/bin/env node
/**
 * The `bftp` command. Subcommands arrive with the issues that build them; until then it
 * reports its version and what it can do, and refuses anything else with exit code 2.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

const USAGE = `Usage: bftp [--version] [--help]

bftp moves files between machines over TCP. This build ships the wire framing library
and the handouts' example programs (see README.md, "Examples"); the server and client
commands are not part of it yet.

Options:
  -h, --help     show this help
  -V, --version  print the version

Exit codes: 0 success, 2 usage error.`;

function version(): string {
  const pkg = JSON.parse(
    readFileSync(new URL("../../../package.json", import.meta.url), "utf8"),
  ) as {
    version: string;
  };
  return pkg.version;
}

function main(argv: string[]): number {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { help: { type: "boolean", short: "h" }, version: { type: "boolean", short: "V" } },
      allowPositionals: true,
    });
  } catch (err) {
    process.stderr.write(`bftp: ${(err as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (parsed.values.version) {
    process.stdout.write(`bftp ${version()}\n`);
    return 0;
  }
  const [command] = parsed.positionals;
  if (parsed.values.help || command === undefined) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  process.stderr.write(`bftp: unknown command "${command}"\n\n${USAGE}\n`);
  return 2;
}

process.exitCode = main(process.argv.slice(2));
