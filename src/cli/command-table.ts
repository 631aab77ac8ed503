/**
 * Every command of `bftp` by name, in the order `bftp --help` lists them: the server's two
 * (`serve`, `user`) among the client's (client-command-table.ts). As there, a builder imports its
 * command's module only when called.
 */
import { CLIENT_COMMANDS, type CommandBuilder } from "./client-command-table.js";

const SERVER_COMMANDS: readonly (readonly [string, CommandBuilder])[] = [
  ["serve", async () => (await import("./serve-command.js")).serveCommand()],
  ["user", async () => (await import("./user-command.js")).userCommand()],
];

/** The order of `bftp --help`: serve first, user before remote. */
const ORDER = [
  "serve",
  ...CLIENT_COMMANDS.map(([name]) => name).filter((name) => name !== "remote"),
  "user",
  "remote",
];

const COMMANDS = ORDER.map(
  (name) =>
    [...SERVER_COMMANDS, ...CLIENT_COMMANDS].find(([known]) => known === name) as readonly [
      string,
      CommandBuilder,
    ],
);

/**
 * The commands this command line needs: none for the version, the one it names, or all of
 * them (for `bftp`, `--help`, `help CMD` and unknown commands, whose messages list them).
 */
export function commandsFor(argv: readonly string[]): CommandBuilder[] {
  const first = argv[2];
  if (first === "-V" || first === "--version") return [];
  const named = COMMANDS.find(([name]) => name === first);
  return named === undefined ? COMMANDS.map(([, build]) => build) : [named[1]];
}
