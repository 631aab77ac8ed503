import { BftpError } from "../../errors.js";
import type { ShellCommandSpec } from "./command-spec.js";
import { lcdSpec, llsSpec, lpwdSpec, progressSpec } from "./local-commands.js";
import {
  cdSpec,
  hashSpec,
  lsSpec,
  mkdirSpec,
  mvSpec,
  pwdSpec,
  rmSpec,
  rmdirSpec,
  statSpec,
} from "./remote-commands.js";
import { getSpec, mgetSpec, mirrorSpec, mputSpec, putSpec } from "./transfer-commands.js";

/** `help [COMMAND]`: the command list, or one command's usage. */
const helpSpec: ShellCommandSpec = {
  name: "help",
  aliases: ["?"],
  usage: "help [COMMAND]",
  summary: "list the commands, or show how to use one",
  operands: ["command"],
  minOperands: 0,
  run: (ctx, { operands }) => {
    const name = operands[0];
    if (name === undefined) {
      const width = Math.max(...ctx.commands.map((c) => c.name.length));
      for (const c of ctx.commands) ctx.print(`  ${c.name.padEnd(width)}  ${c.summary}`);
      ctx.print("");
      ctx.print(KEYS_HELP);
      return Promise.resolve(undefined);
    }
    const spec = findCommand(ctx.commands, name);
    if (spec === undefined) return Promise.reject(unknownCommand(name));
    ctx.print(`usage: ${spec.usage}`);
    ctx.print(`  ${spec.summary}`);
    if (spec.aliases !== undefined && spec.aliases.length > 0) {
      ctx.print(`  also: ${spec.aliases.join(", ")}`);
    }
    for (const flag of spec.flags ?? []) {
      ctx.print(`  ${flag.names.join(", ").padEnd(18)} ${flag.help}`);
    }
    if (spec.details !== undefined) {
      ctx.print("");
      for (const line of spec.details.split("\n")) ctx.print(line);
    }
    return Promise.resolve(undefined);
  },
};

/** `quit` / `exit`: end the shell (as does Ctrl-D, or the end of a script). */
const quitSpec: ShellCommandSpec = {
  name: "quit",
  aliases: ["exit", "bye"],
  usage: "quit",
  summary: "end the session (also exit, or Ctrl-D)",
  operands: [],
  minOperands: 0,
  run: (ctx) => {
    ctx.quit();
    return Promise.resolve(undefined);
  },
};

const KEYS_HELP = `!COMMAND runs COMMAND in your local shell, in the local folder; a lone ! starts the shell
itself (exit returns here).
Tab completes commands and remote (or, for lcd, lls and put, local) paths; press it
twice to see the choices. Up and Down walk the history. Quote names with spaces: "a b",
'a b' or a\\ b. Ctrl-C clears the line, or interrupts a transfer (-c resumes it later).
Ctrl-D or quit ends the session.`;

/** Every command of the shell, in the order `help` lists them. */
export const SHELL_COMMANDS: readonly ShellCommandSpec[] = [
  getSpec,
  putSpec,
  mgetSpec,
  mputSpec,
  mirrorSpec,
  lsSpec,
  cdSpec,
  pwdSpec,
  statSpec,
  hashSpec,
  mkdirSpec,
  rmdirSpec,
  rmSpec,
  mvSpec,
  lcdSpec,
  llsSpec,
  lpwdSpec,
  progressSpec,
  helpSpec,
  quitSpec,
];

/** The command called `name` (or one of its aliases). */
export function findCommand(
  commands: readonly ShellCommandSpec[],
  name: string,
): ShellCommandSpec | undefined {
  return commands.find((c) => c.name === name || (c.aliases ?? []).includes(name));
}

/** The usage error for a name that is no command. */
export function unknownCommand(name: string): BftpError {
  return new BftpError(
    "BFTP_ERR_INVALID_ARGUMENT",
    `Cannot run ${JSON.stringify(name)}: no such command (type help for the list)`,
  );
}
