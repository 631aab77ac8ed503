import path from "node:path";
import { getOperation } from "../get-command.js";
import { putOperation } from "../put-command.js";
import { syncOperation } from "../sync-command.js";
import type { FlagSpec, ParsedArgs, ShellCommandSpec } from "./command-spec.js";
import { expandLocalGlob } from "./local-glob.js";
import { expandHome, usage } from "./local-path.js";
import { operationFlags, type ShellContext } from "./shell-context.js";

// The shell's transfers are adapters (issue 13, item 9): operands resolved against the
// shell's folders, then the command line's own get, put and sync, on the session's
// connection, so the rules (no-clobber, -c, trailing slashes, re-runs that continue, globs,
// many sources) and the result lines cannot drift apart.

const TRANSFER_FLAGS: readonly FlagSpec[] = [
  { key: "recursive", names: ["-r", "--recursive"], help: "copy a folder and everything in it" },
  {
    key: "resume",
    names: ["-c", "--continue"],
    help: "continue an interrupted transfer (checked by SHA-256)",
  },
  { key: "preserve", names: ["-p", "--preserve"], help: "keep a file's modification time" },
  { key: "overwrite", names: ["--overwrite"], help: "replace an existing file (default: refuse)" },
];

const GET_FLAGS: readonly FlagSpec[] = [
  ...TRANSFER_FLAGS,
  { key: "literal", names: ["--literal"], help: "take remote paths as written: no globs" },
];

/** A remote operand as an absolute path: relative ones are below the remote folder (cd). */
export function remotePath(ctx: ShellContext, operand: string): string {
  return operand.startsWith("/") ? operand : path.posix.join(ctx.session.cwd, operand);
}

function transferFlags(ctx: ShellContext, flags: ReadonlySet<string>) {
  return {
    ...operationFlags(ctx),
    recursive: flags.has("recursive"),
    continue: flags.has("resume"),
    overwrite: flags.has("overwrite"),
    preserve: flags.has("preserve"),
    literal: flags.has("literal"),
  };
}

/** Local operands with their globs expanded and `~` as home. */
function localOperands(words: readonly string[]): string[] {
  return words.flatMap((w) => (w === "-" ? [w] : expandLocalGlob(expandHome(w))));
}

/** `get [-r] [-c] [-p] [--overwrite] REMOTE... [LOCAL]`. */
export const getSpec: ShellCommandSpec = {
  name: "get",
  usage: "get [-rcp] [--overwrite] [--literal] REMOTE [LOCAL]  |  get REMOTE... LOCALDIR",
  summary: "download files or globs, or with -r a folder",
  details: `The rules of bftp get. LOCAL defaults to the remote name in the local folder (see lcd);
an existing folder receives the copy. With several REMOTEs, or a glob (*, ?, **), the last
operand is an existing local folder (mget puts them in the local folder). With -r, like cp -r:
a LOCAL that does not exist becomes the copy; an existing folder receives it, unless REMOTE
ends with / (its contents) or -c finds the copy a first run began. Existing files are never
replaced without --overwrite; an interrupted download leaves NAME.bftp-part, which -c continues.`,
  flags: GET_FLAGS,
  operands: ["remote", "local"],
  minOperands: 1,
  manyOperands: true,
  operation: getOperation,
  run: (ctx, args) => get(ctx, args, false),
};

/** `mget REMOTE...`: many files (globs) into the local folder. */
export const mgetSpec: ShellCommandSpec = {
  name: "mget",
  usage: "mget [-rcp] [--overwrite] REMOTE...",
  summary: "download files and globs (*, ?, **) into the local folder",
  flags: GET_FLAGS,
  operands: ["remote"],
  minOperands: 1,
  manyOperands: true,
  operation: getOperation,
  run: (ctx, args) => get(ctx, args, true),
};

function get(ctx: ShellContext, { flags, operands }: ParsedArgs, all: boolean): Promise<number> {
  const split = !all && operands.length > 1;
  const remotes = (split ? operands.slice(0, -1) : operands).map((o) => remotePath(ctx, o));
  const local = split ? expandHome(operands.at(-1) ?? ".") : all ? "." : undefined;
  return getOperation(ctx.endpoint, remotes, local, transferFlags(ctx, flags));
}

/** `put [-r] [-c] [-p] [--overwrite] LOCAL... [REMOTE]`. */
export const putSpec: ShellCommandSpec = {
  name: "put",
  usage: "put [-rcp] [--overwrite] LOCAL [REMOTE]  |  put LOCAL... REMOTEDIR",
  summary: "upload files or globs, or with -r a folder",
  details: `The rules of bftp put. REMOTE defaults to the remote folder (see cd); an existing
folder receives the copy. Local globs (*, ?, **) are expanded here. With several LOCALs the
last operand is a remote folder (mput puts them in the remote folder). The server commits a
file only once all of it arrived and its checksum matched; -c continues an interrupted upload.`,
  flags: TRANSFER_FLAGS,
  operands: ["local", "remote"],
  minOperands: 1,
  manyOperands: true,
  operation: putOperation,
  run: (ctx, args) => put(ctx, args, false),
};

/** `mput LOCAL...`: many files (globs) into the remote folder. */
export const mputSpec: ShellCommandSpec = {
  name: "mput",
  usage: "mput [-rcp] [--overwrite] LOCAL...",
  summary: "upload files and globs (*, ?, **) into the remote folder",
  flags: TRANSFER_FLAGS,
  operands: ["local"],
  minOperands: 1,
  manyOperands: true,
  operation: putOperation,
  run: (ctx, args) => put(ctx, args, true),
};

function put(ctx: ShellContext, { flags, operands }: ParsedArgs, all: boolean): Promise<number> {
  const split = !all && operands.length > 1;
  const locals = localOperands(split ? operands.slice(0, -1) : operands);
  const remote = split ? remotePath(ctx, operands.at(-1) ?? ".") : ctx.session.cwd;
  // Several files go into a folder: the remote folder itself when none was named.
  const target = locals.length > 1 && !split ? `${remote.replace(/\/+$/u, "")}/` : remote;
  return putOperation(ctx.endpoint, locals, target, transferFlags(ctx, flags));
}

/** `mirror [-R] [--delete] [-n] [--checksum] SOURCE [TARGET]`: lftp's mirror, as bftp sync. */
export const mirrorSpec: ShellCommandSpec = {
  name: "mirror",
  usage: "mirror [-R] [--delete] [-n] [--checksum] SOURCE [TARGET]",
  summary: "bring a local folder up to date (-R: a remote one), as bftp sync",
  details: `The rules of bftp sync. mirror REMOTE [LOCAL] brings LOCAL (default: the remote
folder's name in the local folder) up to date with REMOTE; mirror -R LOCAL [REMOTE] the other
way (default: the local folder's name in the remote folder). Files of the same size and time
(or SHA-256 with --checksum) are skipped; --delete removes what only TARGET holds; -n shows
what would change and changes nothing.`,
  flags: [
    { key: "reverse", names: ["-R", "--reverse"], help: "upload: local SOURCE to remote TARGET" },
    { key: "delete", names: ["--delete"], help: "remove what only TARGET holds" },
    { key: "dryRun", names: ["-n", "--dry-run"], help: "show the changes, make none" },
    { key: "checksum", names: ["--checksum"], help: "compare by SHA-256, not by time" },
  ],
  operands: ["remote", "local"],
  minOperands: 1,
  operation: syncOperation,
  run: (ctx, { flags, operands }) => {
    const [source = "", target] = operands;
    const up = flags.has("reverse");
    const name = path.posix.basename(
      up ? path.resolve(expandHome(source)) : remotePath(ctx, source),
    );
    if (target === undefined && name === "") {
      throw usage("Cannot name the copy of the root folder: give TARGET");
    }
    const local = up ? expandHome(source) : expandHome(target ?? name);
    const remote = up ? remotePath(ctx, target ?? name) : remotePath(ctx, source);
    return syncOperation(
      ctx.endpoint,
      up ? "up" : "down",
      remote,
      local,
      {
        ...operationFlags(ctx),
        delete: flags.has("delete"),
        dryRun: flags.has("dryRun"),
        checksum: flags.has("checksum"),
      },
      up ? { source: local, destination: remote } : { source: remote, destination: local },
    );
  },
};
