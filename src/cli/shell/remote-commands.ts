import path from "node:path";
import { escapeControls } from "../../client/safe-name.js";
import { mvOperation } from "../mv-command.js";
import { remoteOperation } from "../remote-command.js";
import { REMOTE_SPECS } from "../remote-commands.js";
import type { FlagSpec, ShellCommandSpec } from "./command-spec.js";
import { operationFlags } from "./shell-context.js";

// The shell's remote commands are adapters (issue 13, item 9): each resolves its operands
// against the shell's folders and runs the command line's own operation on the session's
// connection, so `ls -l` lines, globs, rm -r and the messages are the same in both.

const LITERAL: FlagSpec = {
  key: "literal",
  names: ["--literal"],
  help: "take the path as written: *, ? and [ are plain",
};

/** `pwd`: the remote working folder. */
export const pwdSpec: ShellCommandSpec = {
  name: "pwd",
  usage: "pwd",
  summary: "print the remote folder",
  operands: [],
  minOperands: 0,
  run: async (ctx) => {
    ctx.print(escapeControls(await ctx.session.client.pwd()));
    return undefined;
  },
};

/** `cd [REMOTE]`: change the remote working folder. */
export const cdSpec: ShellCommandSpec = {
  name: "cd",
  usage: "cd [REMOTE]",
  summary: "change the remote folder (to / without REMOTE)",
  operands: ["remote"],
  minOperands: 0,
  run: async (ctx, { operands }) => {
    await ctx.session.cd(operands[0] ?? "/");
    return undefined;
  },
};

/** `ls [-l] [-a] [-h] [REMOTE]`: list a remote folder. */
export const lsSpec: ShellCommandSpec = {
  name: "ls",
  aliases: ["dir"],
  usage: "ls [-lah] [--literal] [REMOTE]",
  summary: "list a remote folder (-l long lines, -a dotfiles too, -h sizes)",
  details: `Folders end with /, links with @. With -l each line reads TYPE SIZE DATE TIME NAME,
TYPE being d (folder), - (file), l (link) or ? (other): the lines of bftp ls. Names that
begin with "." are shown with -a only, as ls does. A glob (*, ?, **) lists what it matches.`,
  flags: [
    { key: "long", names: ["-l"], help: "type, size and modification time" },
    { key: "all", names: ["-a", "--all"], help: 'names that begin with "." too' },
    { key: "human", names: ["-h", "--human-readable"], help: "sizes as 4.0K, 1.2M" },
    LITERAL,
  ],
  operands: ["remote"],
  minOperands: 0,
  operation: REMOTE_SPECS.ls,
  run: (ctx, { flags, operands }) =>
    remoteOperation(ctx.endpoint, REMOTE_SPECS.ls, operands[0] ?? ".", {
      long: flags.has("long"),
      all: flags.has("all"),
      humanReadable: flags.has("human"),
      literal: flags.has("literal"),
    }),
};

/** `stat REMOTE`: describe one remote file or folder. */
export const statSpec: ShellCommandSpec = {
  name: "stat",
  usage: "stat REMOTE",
  summary: "show a remote file's type, size and modification time",
  operands: ["remote"],
  minOperands: 1,
  operation: REMOTE_SPECS.stat,
  run: (ctx, { operands }) =>
    remoteOperation(ctx.endpoint, REMOTE_SPECS.stat, operands[0] ?? "", {}),
};

/** `hash REMOTE`: the SHA-256 the server computes, printed as sha256sum does. */
export const hashSpec: ShellCommandSpec = {
  name: "hash",
  usage: "hash REMOTE",
  summary: "print the SHA-256 of a remote file (as sha256sum does)",
  operands: ["remote"],
  minOperands: 1,
  operation: REMOTE_SPECS.hash,
  run: (ctx, { operands }) =>
    remoteOperation(ctx.endpoint, REMOTE_SPECS.hash, operands[0] ?? "", {}),
};

/** `rm [-r] REMOTE...`: delete remote files (-r: folders with everything in them). */
export const rmSpec: ShellCommandSpec = {
  name: "rm",
  aliases: ["delete"],
  usage: "rm [-r] [--literal] REMOTE...",
  summary: "delete remote files or globs (-r: folders, all inside; never the root)",
  flags: [
    { key: "recursive", names: ["-r", "-R", "--recursive"], help: "folders too, with all inside" },
    LITERAL,
  ],
  operands: ["remote"],
  minOperands: 1,
  manyOperands: true,
  operation: REMOTE_SPECS.rm,
  run: async (ctx, { flags, operands }) => {
    for (const remote of operands) {
      await remoteOperation(ctx.endpoint, REMOTE_SPECS.rm, remote, {
        ...operationFlags(ctx),
        recursive: flags.has("recursive"),
        literal: flags.has("literal"),
      });
    }
    return undefined;
  },
};

/** `mkdir [-p] REMOTE`: create a remote folder. */
export const mkdirSpec: ShellCommandSpec = {
  name: "mkdir",
  usage: "mkdir [-p] REMOTE",
  summary: "create a remote folder (-p: and its parents, no error if it exists)",
  flags: [{ key: "parents", names: ["-p", "--parents"], help: "create parents as needed" }],
  operands: ["remote"],
  minOperands: 1,
  operation: REMOTE_SPECS.mkdir,
  run: (ctx, { flags, operands }) =>
    remoteOperation(ctx.endpoint, REMOTE_SPECS.mkdir, operands[0] ?? "", {
      ...operationFlags(ctx),
      parents: flags.has("parents"),
    }),
};

/** `rmdir REMOTE`: remove an empty remote folder. */
export const rmdirSpec: ShellCommandSpec = {
  name: "rmdir",
  usage: "rmdir REMOTE",
  summary: "remove an empty remote folder",
  operands: ["remote"],
  minOperands: 1,
  operation: REMOTE_SPECS.rmdir,
  run: (ctx, { operands }) =>
    remoteOperation(ctx.endpoint, REMOTE_SPECS.rmdir, operands[0] ?? "", operationFlags(ctx)),
};

/** `mv [--overwrite] FROM TO`: rename or move on the server. */
export const mvSpec: ShellCommandSpec = {
  name: "mv",
  aliases: ["rename"],
  usage: "mv [--overwrite] FROM TO",
  summary: "rename or move a remote file or folder",
  details: `TO is relative to the remote folder (see cd). If TO is an existing folder, or ends
with /, FROM moves inside it, as mv does. An existing file is not replaced without --overwrite.`,
  flags: [{ key: "overwrite", names: ["--overwrite"], help: "replace an existing TO" }],
  operands: ["remote", "remote"],
  minOperands: 2,
  operation: mvOperation,
  run: (ctx, { flags, operands }) => {
    const [from = "", to = ""] = operands;
    // `mv .` or `mv ../x` name what moves by its resolved name, as the command line does.
    const source = path.posix.resolve(ctx.session.cwd, from);
    return mvOperation(ctx.endpoint, source, to, {
      ...operationFlags(ctx),
      overwrite: flags.has("overwrite"),
    });
  },
};
