/**
 * The client's commands by name, in the order `bftp --help` lists them, and how to build each.
 * Each builder lives with its implementation and imports the client, so a command's module
 * is imported only when the command line needs it (issue 12, item 4: start-up). Nothing here
 * reaches the server's modules: this table is also the entry of the client bundle
 * (client-main.ts), which holds no server code.
 */
import type { Command } from "commander";

/** Builds one command (importing its module on the way). */
export type CommandBuilder = () => Promise<Command>;

export const CLIENT_COMMANDS: readonly (readonly [string, CommandBuilder])[] = [
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
  ["remote", async () => (await import("./remote-config-command.js")).remoteConfigCommand()],
];

function remoteCommand(module: typeof import("./remote-commands.js"), name: string): Command {
  const command = module.remoteCommands().find((c) => c.name() === name);
  if (command === undefined) throw new Error(`No command "${name}" in remote-commands.ts`);
  return command;
}

/** The builder of the client command `name`, if it is one. */
export function clientCommand(name: string | undefined): CommandBuilder | undefined {
  return CLIENT_COMMANDS.find(([known]) => known === name)?.[1];
}
