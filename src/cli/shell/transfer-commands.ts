import path from "node:path";
import type { TransferResult } from "../../client/download.js";
import type { ProgressHandler } from "../../client/progress.js";
import { escapeControls, localName } from "../../client/safe-name.js";
import {
  downloadTree,
  uploadTree,
  type BatchOptions,
  type BatchResult,
} from "../../client/tree.js";
import { BftpError, isBftpError } from "../../errors.js";
import { EXIT, formatBytes } from "../common.js";
import { ProgressDisplay } from "../progress-display.js";
import type { FlagSpec, ParsedArgs, ShellCommandSpec } from "./command-spec.js";
import { expandHome, localStat, usage } from "./local-path.js";
import type { ShellContext } from "./shell-context.js";

const TRANSFER_FLAGS: readonly FlagSpec[] = [
  { key: "recursive", names: ["-r", "--recursive"], help: "copy a folder and everything in it" },
  {
    key: "resume",
    names: ["-c", "--continue"],
    help: "continue an interrupted transfer (checked by SHA-256)",
  },
  { key: "overwrite", names: ["--overwrite"], help: "replace an existing file (default: refuse)" },
];

/** `get [-r] [-c] [--overwrite] REMOTE [LOCAL]`. */
export const getSpec: ShellCommandSpec = {
  name: "get",
  usage: "get [-r] [-c] [--overwrite] REMOTE [LOCAL]",
  summary: "download a file, or with -r a folder",
  details: `LOCAL defaults to the remote name in the local folder (see lcd). If LOCAL is a
folder, the copy goes inside it. With -r, like cp -r: a LOCAL that does not exist becomes
the copy of REMOTE; an existing folder receives REMOTE inside it. Existing files are never
replaced without --overwrite; an interrupted download leaves NAME.bftp-part, which -c
continues.`,
  flags: TRANSFER_FLAGS,
  operands: ["remote", "local"],
  minOperands: 1,
  run: get,
};

/** `put [-r] [-c] [--overwrite] LOCAL [REMOTE]`. */
export const putSpec: ShellCommandSpec = {
  name: "put",
  usage: "put [-r] [-c] [--overwrite] LOCAL [REMOTE]",
  summary: "upload a file, or with -r a folder",
  details: `REMOTE defaults to the local name in the remote folder (see cd). If REMOTE is a
folder, the copy goes inside it. With -r, like cp -r: a REMOTE that does not exist becomes
the copy of LOCAL; an existing folder receives LOCAL inside it. The server commits a file
only once all of it arrived and its checksum matched; -c continues an interrupted upload.`,
  flags: TRANSFER_FLAGS,
  operands: ["local", "remote"],
  minOperands: 1,
  run: put,
};

async function get(
  ctx: ShellContext,
  { flags, operands }: ParsedArgs,
): Promise<number | undefined> {
  const [remote = "", localArg] = operands;
  const { client } = ctx.session;
  const entry = await client.stat(remote);
  const recursive = flags.has("recursive");
  if (entry.type === "dir" && !recursive) {
    throw usage(`Cannot get ${show(remote)}: it is a folder (use get -r)`);
  }
  if (entry.type !== "dir" && entry.type !== "file") {
    throw usage(`Cannot get ${show(remote)}: it is a ${entry.type}, not a file`);
  }
  // The copy is named after the last component of the remote path, resolved against the
  // remote folder (so `get .` or `get ../x` name the copy sensibly); localName refuses a
  // name that could point elsewhere.
  const base = path.posix.basename(path.posix.resolve(ctx.session.cwd, remote));
  const target = await copyTarget(
    localArg === undefined ? undefined : expandHome(localArg),
    base === "" ? "" : localName(base),
    "local",
  );
  return transfer(ctx, {
    verb: "get",
    flags,
    source: remote,
    target,
    folder: entry.type === "dir",
    file: (options) => client.download(remote, target, options),
    tree: (options) => downloadTree(client, remote, target, options),
  });
}

async function put(
  ctx: ShellContext,
  { flags, operands }: ParsedArgs,
): Promise<number | undefined> {
  const [localArg = "", remoteArg] = operands;
  const { client } = ctx.session;
  const local = expandHome(localArg);
  const stats = await localStat(local);
  if (stats === undefined) {
    throw new BftpError(
      "BFTP_ERR_LOCAL_FILE",
      `Cannot put ${show(local)}: no such file or directory`,
    );
  }
  const recursive = flags.has("recursive");
  if (stats.isDirectory() && !recursive) {
    throw usage(`Cannot put ${show(local)}: it is a folder (use put -r)`);
  }
  if (!stats.isDirectory() && !stats.isFile()) {
    throw usage(`Cannot put ${show(local)}: it is not a regular file or folder`);
  }
  const base = path.basename(path.resolve(local));
  const target = await copyTarget(remoteArg, base, "remote", ctx);
  return transfer(ctx, {
    verb: "put",
    flags,
    source: local,
    target,
    folder: stats.isDirectory(),
    file: (options) => client.upload(local, target, options),
    tree: (options) => uploadTree(client, local, target, options),
  });
}

/** Options of one file's transfer: the shell's flags and the progress handler. */
interface FileOptions {
  readonly resume: boolean;
  readonly overwrite: boolean;
  readonly onProgress: ProgressHandler;
}

/** One `get` or `put`, once its source was checked and its target chosen. */
interface Transfer {
  readonly verb: "get" | "put";
  readonly flags: ReadonlySet<string>;
  /** As the user named it, for the result line. */
  readonly source: string;
  readonly target: string;
  /** A folder (-r): copied by `tree` and reported as a batch; otherwise `file` copies it. */
  readonly folder: boolean;
  readonly file: (options: FileOptions) => Promise<TransferResult>;
  readonly tree: (options: FileOptions & BatchOptions) => Promise<BatchResult>;
}

/**
 * Runs a file or a tree transfer with a progress display, stopped whatever happens, then
 * prints its result line (a file unless quiet; a tree as {@link reportBatch} does).
 */
async function transfer(ctx: ShellContext, job: Transfer): Promise<number | undefined> {
  const display = await ProgressDisplay.create(ctx.drawProgress);
  const options: FileOptions = {
    resume: job.flags.has("resume"),
    overwrite: job.flags.has("overwrite"),
    onProgress: display.onProgress,
  };
  const what = `${show(job.source)} -> ${show(job.target)}`;
  if (!job.folder) {
    let result: TransferResult;
    try {
      result = await job.file(options);
      display.done(result.path, result.size);
    } finally {
      display.stop();
    }
    if (!ctx.quiet) ctx.print(`${job.verb} ${what} (${sized(result)})`);
    return undefined;
  }
  let batch: BatchResult;
  try {
    batch = await job.tree({
      ...options,
      onFile: (r) => {
        display.done(r.path, r.size);
      },
      onWarning: (m) => {
        display.log(`warning: ${m}`);
      },
    });
  } finally {
    display.stop();
  }
  return reportBatch(ctx, `${job.verb} -r ${what}`, batch);
}

/**
 * Where a copy named `base` goes, as cp does it: the destination itself, or inside it when it
 * is an existing folder; the current folder when no destination is given.
 */
async function copyTarget(
  dest: string | undefined,
  base: string,
  side: "local" | "remote",
  ctx?: ShellContext,
): Promise<string> {
  if (dest === undefined) {
    if (base === "") throw usage("Cannot name the copy of the root folder: give a destination");
    return base;
  }
  const isDir =
    side === "local"
      ? (await localStat(dest))?.isDirectory() === true
      : await remoteIsDir(dest, ctx);
  if (!isDir || base === "") return dest;
  return side === "local" ? path.join(dest, base) : path.posix.join(dest, base);
}

async function remoteIsDir(remote: string, ctx: ShellContext | undefined): Promise<boolean> {
  if (ctx === undefined) return false;
  try {
    return (await ctx.session.client.stat(remote)).type === "dir";
  } catch (err) {
    if (isBftpError(err, "BFTP_ERR_NOT_FOUND")) return false;
    throw err;
  }
}

function reportBatch(ctx: ShellContext, what: string, batch: BatchResult): number | undefined {
  for (const failure of batch.failed) {
    ctx.warn(
      `error: ${show(failure.path)}: ${escapeControls(failure.error.message)} (${failure.error.code})`,
    );
  }
  const bytes = batch.files.reduce((sum, f) => sum + f.bytes, 0);
  const extra = [
    batch.failed.length > 0 ? `, ${batch.failed.length} failed` : "",
    batch.skipped > 0 ? `, ${batch.skipped} skipped` : "",
  ].join("");
  if (!ctx.quiet || batch.failed.length > 0) {
    ctx.print(`${what} (${batch.files.length} files, ${formatBytes(bytes)}${extra})`);
  }
  return batch.failed.length > 0 || batch.skipped > 0 ? EXIT.partial : undefined;
}

function sized(result: TransferResult): string {
  const resumed = result.offset > 0 ? `, resumed at ${formatBytes(result.offset)}` : "";
  return `${formatBytes(result.size)}${resumed}`;
}

/** A name for the terminal: control characters escaped (names may come from the server). */
function show(name: string): string {
  return escapeControls(name);
}
