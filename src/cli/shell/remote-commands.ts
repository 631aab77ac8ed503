import path from "node:path";
import type { Entry } from "../../client/reply-shapes.js";
import { removeTree } from "../../client/remove-tree.js";
import { escapeControls } from "../../client/safe-name.js";
import { isBftpError } from "../../errors.js";
import { formatBytes } from "../common.js";
import type { ShellCommandSpec } from "./command-spec.js";

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

/** `ls [-l] [REMOTE]`: list a remote folder. */
export const lsSpec: ShellCommandSpec = {
  name: "ls",
  aliases: ["dir"],
  usage: "ls [-l] [REMOTE]",
  summary: "list a remote folder (names; -l adds type, size, time)",
  details: `Folders end with /, links with @. With -l each line reads
TYPE SIZE DATE TIME NAME, TYPE being d (folder), - (file), l (link) or ? (other).`,
  flags: [{ key: "long", names: ["-l"], help: "type, size and modification time" }],
  operands: ["remote"],
  minOperands: 0,
  run: async (ctx, { flags, operands }) => {
    const { client } = ctx.session;
    const target = operands[0];
    let entries: Entry[];
    try {
      entries = await client.list(target);
    } catch (err) {
      // `ls FILE` describes the file, as ls does.
      if (target === undefined || !isBftpError(err, "BFTP_ERR_NOT_A_DIRECTORY")) throw err;
      entries = [await client.stat(target)];
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      ctx.print(flags.has("long") ? longLine(entry) : decorated(entry));
    }
    return undefined;
  },
};

/** `stat REMOTE`: describe one remote file or folder. */
export const statSpec: ShellCommandSpec = {
  name: "stat",
  usage: "stat REMOTE",
  summary: "show a remote file's type, size and modification time",
  operands: ["remote"],
  minOperands: 1,
  run: async (ctx, { operands }) => {
    const entry = await ctx.session.client.stat(operands[0] ?? "");
    ctx.print(`name:  ${escapeControls(entry.name)}`);
    ctx.print(`type:  ${entry.type}`);
    ctx.print(`size:  ${entry.size} (${formatBytes(entry.size)})`);
    ctx.print(`mtime: ${new Date(entry.mtime).toISOString()}`);
    return undefined;
  },
};

/** `hash REMOTE`: the SHA-256 the server computes, printed as sha256sum does. */
export const hashSpec: ShellCommandSpec = {
  name: "hash",
  usage: "hash REMOTE",
  summary: "print the SHA-256 of a remote file (as sha256sum does)",
  operands: ["remote"],
  minOperands: 1,
  run: async (ctx, { operands }) => {
    const remote = operands[0] ?? "";
    ctx.print(`${await ctx.session.client.hash(remote)}  ${escapeControls(remote)}`);
    return undefined;
  },
};

/** `rm [-r] REMOTE`: delete a remote file (-r: a folder with everything in it). */
export const rmSpec: ShellCommandSpec = {
  name: "rm",
  aliases: ["delete"],
  usage: "rm [-r] REMOTE",
  summary: "delete a remote file (-r: a folder and everything in it, never the root)",
  flags: [
    { key: "recursive", names: ["-r", "-R", "--recursive"], help: "folders too, with all inside" },
  ],
  operands: ["remote"],
  minOperands: 1,
  run: async (ctx, { flags, operands }) => {
    const remote = operands[0] ?? "";
    if (!flags.has("recursive")) {
      await ctx.session.client.delete(remote);
      return undefined;
    }
    // The same operation as `bftp rm -r` (client/remove-tree.ts).
    const removed = await removeTree(ctx.session.client, remote);
    ctx.print(
      `removed ${escapeControls(removed.path)} (${removed.files} files, ${removed.folders} folders)`,
    );
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
  run: async (ctx, { flags, operands }) => {
    await ctx.session.client.mkdir(operands[0] ?? "", { parents: flags.has("parents") });
    return undefined;
  },
};

/** `rmdir REMOTE`: remove an empty remote folder. */
export const rmdirSpec: ShellCommandSpec = {
  name: "rmdir",
  usage: "rmdir REMOTE",
  summary: "remove an empty remote folder",
  operands: ["remote"],
  minOperands: 1,
  run: async (ctx, { operands }) => {
    await ctx.session.client.rmdir(operands[0] ?? "");
    return undefined;
  },
};

/** `mv [--overwrite] FROM TO`: rename or move on the server. */
export const mvSpec: ShellCommandSpec = {
  name: "mv",
  aliases: ["rename"],
  usage: "mv [--overwrite] FROM TO",
  summary: "rename or move a remote file or folder",
  details: `If TO is an existing folder, FROM moves inside it, as mv does. An existing file
is not replaced without --overwrite.`,
  flags: [{ key: "overwrite", names: ["--overwrite"], help: "replace an existing TO" }],
  operands: ["remote", "remote"],
  minOperands: 2,
  run: async (ctx, { flags, operands }) => {
    const { client } = ctx.session;
    const [from = "", to = ""] = operands;
    let target = to;
    try {
      if ((await client.stat(to)).type === "dir") {
        target = path.posix.join(
          to,
          path.posix.basename(path.posix.resolve(ctx.session.cwd, from)),
        );
      }
    } catch (err) {
      if (!isBftpError(err, "BFTP_ERR_NOT_FOUND")) throw err;
    }
    await client.rename(from, target, { overwrite: flags.has("overwrite") });
    return undefined;
  },
};

/** A name with `/` after a folder and `@` after a link, escaped for the terminal. */
function decorated(entry: Entry): string {
  const mark = entry.type === "dir" ? "/" : entry.type === "symlink" ? "@" : "";
  return `${escapeControls(entry.name)}${mark}`;
}

function longLine(entry: Entry): string {
  const type =
    entry.type === "dir" ? "d" : entry.type === "file" ? "-" : entry.type === "symlink" ? "l" : "?";
  const size = entry.type === "dir" ? "-" : String(entry.size);
  return `${type} ${size.padStart(12)} ${localTime(entry.mtime)} ${decorated(entry)}`;
}

/** `YYYY-MM-DD HH:MM` in local time. */
function localTime(ms: number): string {
  const d = new Date(ms);
  const two = (n: number): string => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}`;
}
