import { Command } from "commander";
import { escapeControls } from "../client/safe-name.js";
import { syncTree, type SyncChange, type SyncDirection, type SyncResult } from "../client/sync.js";
import {
  addCommonOptions,
  EXIT,
  EXIT_HELP,
  formatBytes,
  isRemoteArgument,
  location,
  runAction,
  say,
  sayJson,
  usageError,
  warn,
  type CommonFlags,
} from "./common.js";
import { ProgressDisplay } from "./progress-display.js";
import { commandEndpoint, type Endpoint } from "./run-transfer.js";

/** Flags of `bftp sync`. */
export interface SyncFlags extends CommonFlags {
  readonly delete?: boolean;
  readonly dryRun?: boolean;
  readonly checksum?: boolean;
}

/** `bftp sync SRC DEST`: bring DEST up to date with SRC, one of them remote (issue 13, item 2). */
export function syncCommand(): Command {
  return addCommonOptions(
    new Command("sync")
      .description("Bring a folder up to date with another, sending only what changed")
      .argument(
        "<source>",
        "the folder to copy from: a local path, or bftp://host/path or NAME:path",
      )
      .argument(
        "<destination>",
        "the folder to bring up to date (created if missing); the other side",
      )
      .option("--delete", "also remove what DESTINATION holds and SOURCE does not (rsync --delete)")
      .option("-n, --dry-run", "print what would be sent, replaced and deleted; change nothing")
      .option("--checksum", "compare same-size files by SHA-256 instead of modification time"),
  )
    .addHelpText(
      "after",
      `
Examples:
  bftp sync photos bftp://files.local/photos          upload what changed in photos
  bftp sync bftp://files.local/photos photos          download what changed
  bftp sync -n --delete photos nas:/photos             what a mirror would change, changing nothing
  bftp sync --delete photos nas:/photos                make /photos an exact copy of photos
  bftp sync --checksum --json docs bftp://h/docs | jq .replaced

DESTINATION becomes a copy of what is in SOURCE, as rclone sync does (SOURCE's own name is never
added below DESTINATION, with or without a trailing slash: "sync a b" and "sync a/ b" are the
same, so the same command run again always lands in the same place). Exactly one side is remote.

A file is sent when DESTINATION lacks it or holds a different one: another size, or another
modification time (to the millisecond; with --checksum, another SHA-256 instead, for trees
whose times cannot be trusted). Every file sent is checked end to end and takes its name only
once whole, so DESTINATION never shows a half-written file; it keeps SOURCE's modification
time, so the next sync skips it. Links and special files in SOURCE are skipped with a warning.

--delete removes, after every file arrived and only then, what DESTINATION holds and SOURCE
does not: files, links (never what they point to) and folders with what is in them, never
DESTINATION itself. A run with a failed file deletes nothing. Try it with -n first.

Both trees are listed before anything moves (at most 1,000,000 entries a side). Where the
server speaks the tree stream (PROTOCOL.md §8.13, §8.14) the changed files go in one stream,
the unchanged ones named and skipped by the server; otherwise one transfer each.

rsync -rt --delete SRC/ DEST  ~  bftp sync --delete SRC DEST  (rsync -c  ~  --checksum)
rclone sync SRC DEST          ~  bftp sync --delete SRC DEST
${EXIT_HELP}`,
    )
    .action(async (source: string, destination: string, flags: SyncFlags) => {
      await runAction(flags, () => sync(source, destination, flags));
    });
}

async function sync(source: string, destination: string, flags: SyncFlags): Promise<number> {
  const sourceRemote = isRemoteArgument(source, flags);
  const destinationRemote = isRemoteArgument(destination, flags);
  if (sourceRemote === destinationRemote) {
    throw usageError(
      `Cannot sync ${JSON.stringify(source)} to ${JSON.stringify(destination)}: exactly one of them must be remote (bftp://host/path or NAME:path)`,
    );
  }
  const direction = sourceRemote ? "down" : "up";
  const where = location(sourceRemote ? source : destination, flags);
  const localDir = sourceRemote ? destination : source;
  return syncOperation(commandEndpoint(where, flags), direction, where.path, localDir, flags, {
    source,
    destination,
  });
}

/**
 * `sync` on `endpoint`, behind `bftp sync` and the shell's `mirror` (issue 13, item 9): the
 * library's syncTree with the progress display, the changes shown (-n, -v), the summary or
 * the JSON document, and the exit code. `names` are the two sides as the user wrote them.
 */
export async function syncOperation(
  endpoint: Endpoint,
  direction: SyncDirection,
  remotePath: string,
  localDir: string,
  flags: SyncFlags,
  names: { readonly source: string; readonly destination: string },
): Promise<number> {
  const { source, destination } = names;
  const display = await ProgressDisplay.for(
    flags.dryRun === true ? { ...flags, quiet: true } : flags,
  );
  const warnings: string[] = [];
  const started = performance.now();
  let result: SyncResult;
  try {
    result = await endpoint.use((client) =>
      syncTree(client, direction, remotePath, localDir, {
        checksum: flags.checksum === true,
        delete: flags.delete === true,
        dryRun: flags.dryRun === true,
        onChange: (change) => {
          if (flags.dryRun === true || flags.verbose === true) show(flags, display, change);
        },
        onWarning: (message) => {
          warnings.push(message);
          if (flags.json !== true) display.log(`bftp: warning: ${escapeControls(message)}`);
        },
        onFile: (file) => {
          display.done(file.path, file.size);
        },
        onProgress: display.onProgress,
      }),
    );
  } finally {
    display.stop();
  }
  const ms = performance.now() - started;
  const code = result.failed.length > 0 || result.skipped > 0 ? EXIT.partial : EXIT.ok;
  sayJson(flags, {
    ok: code === EXIT.ok,
    direction: direction === "down" ? "get" : "put",
    source,
    destination,
    dryRun: flags.dryRun === true,
    sent: result.sent,
    replaced: result.replaced,
    unchanged: result.unchanged,
    deleted: result.deleted,
    bytes: result.bytes,
    ms: Math.round(ms),
    skipped: result.skipped,
    changes: result.changes,
    failed: result.failed.map((f) => ({
      path: f.path,
      error: { code: f.error.code, message: f.error.message },
    })),
    warnings,
  });
  const verb = flags.dryRun === true ? "would send" : "sent";
  say(
    flags,
    `${flags.dryRun === true ? "dry run: " : ""}${verb} ${result.sent} new and ${result.replaced} changed file${result.sent + result.replaced === 1 ? "" : "s"}${flags.dryRun === true ? "" : ` (${formatBytes(result.bytes)})`}, ${result.unchanged} unchanged, ${result.deleted} ${flags.dryRun === true ? "to delete" : "deleted"}`,
  );
  for (const f of result.failed) {
    process.stderr.write(
      `bftp: failed ${escapeControls(f.path)}: ${escapeControls(f.error.message)} (${f.error.code})\n`,
    );
  }
  if (result.failed.length > 0 && flags.delete === true) {
    warn(flags, "nothing was deleted, since a file failed: run the same command again");
  }
  return code;
}

/** One planned change, as a line: `send a.txt`, `replace b/c.txt`, `delete old/`. */
function show(flags: SyncFlags, display: ProgressDisplay, change: SyncChange): void {
  if (flags.json === true || flags.quiet === true) return;
  const name = `${escapeControls(change.path)}${change.type === "dir" ? "/" : ""}`;
  const line = `${change.action.padEnd(7)} ${name}`;
  if (display.drawing) display.log(line);
  else process.stdout.write(`${line}\n`);
}
