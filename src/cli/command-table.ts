/**
 * Every command of `bftp` by name, in the order `bftp --help` lists them: the server's two
 * (`serve`, `user`) among the client's (client-command-table.ts). As there, a builder imports its
 * command's module only when called.
 */
import { CLIENT_COMMANDS, type CommandBuilder } from "./client-command-table.js";

const SERVE: readonly [string, CommandBuilder] = [
  "serve",
  async () => (await import("./serve-command.js")).serveCommand(),
];
const USER: readonly [string, CommandBuilder] = [
  "user",
  async () => (await import("./user-command.js")).userCommand(),
];

/** In the order of `bftp --help`: serve first, user just before remote. */
const COMMANDS = [
  SERVE,
  ...CLIENT_COMMANDS.filter(([name]) => name !== "remote"),
  USER,
  ...CLIENT_COMMANDS.filter(([name]) => name === "remote"),
];

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
