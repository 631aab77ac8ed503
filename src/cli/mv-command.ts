import path from "node:path";
import { commandEndpoint, type Endpoint } from "./run-transfer.js";
import { Command } from "commander";
import type { Location } from "../client/location.js";
import { escapeControls } from "../client/safe-name.js";
import {
  EXIT_HELP,
  addCommonOptions,
  hostPort,
  location,
  runAction,
  say,
  sayJson,
  statOrNone,
  usageError,
  isRemoteArgument,
  withHint,
  type CommonFlags,
} from "./common.js";

/** Flags of `bftp mv`. */
export interface MvFlags extends CommonFlags {
  readonly overwrite?: boolean;
}

/** `bftp mv REMOTE NEWPATH`: rename or move a remote file or folder on its server. */
export function mvCommand(): Command {
  return addCommonOptions(
    new Command("mv")
      .description("Rename or move a remote file or folder, on the same server")
      .argument("<remote>", "what to move: bftp://[user@]host[:port]/path")
      .argument(
        "<newpath>",
        "where: an absolute path (/a/b), a path relative to REMOTE's folder, or a bftp:// location on the same server",
      )
      .option("--overwrite", "replace a file that exists at NEWPATH (default: refuse and exit 1)"),
  )
    .addHelpText(
      "after",
      `
As with mv, an existing folder at NEWPATH receives REMOTE under its own name.

Examples:
  bftp mv bftp://files.local/docs/draft.txt final.txt        /docs/final.txt
  bftp mv bftp://files.local/docs/final.txt /archive/        /archive/final.txt
  bftp mv bftp://files.local/a.txt bftp://files.local/b/a.txt
  bftp mv --overwrite bftp://files.local/new.cfg app.cfg
${EXIT_HELP}`,
    )
    .action(async (remote: string, newPath: string, flags: MvFlags) => {
      await runAction(flags, () => mv(remote, newPath, flags));
    });
}

async function mv(remote: string, newPath: string, flags: MvFlags): Promise<number> {
  const from = location(remote, flags);
  const to = targetPath(from, newPath, flags);
  return mvOperation(commandEndpoint(from, flags), from.path, to, flags);
}

/**
 * `mv` on `endpoint`, behind `bftp mv` and the shell's `mv` (issue 13, item 9): `from` to
 * `to`, or into `to` when it is a folder (or ends with `/`), as mv does.
 */
export async function mvOperation(
  endpoint: Endpoint,
  from: string,
  to: string,
  flags: MvFlags,
): Promise<number> {
  const moved = await endpoint.use(async (client) => {
    let target = to;
    if (to.endsWith("/") || (await statOrNone(client, to))?.type === "dir") {
      target = path.posix.join(to, path.posix.basename(from));
    }
    try {
      return await client.rename(from, target, { overwrite: flags.overwrite === true });
    } catch (err) {
      throw withHint(err, "BFTP_ERR_EXISTS", "use --overwrite to replace it");
    }
  });
  sayJson(flags, { ok: true, from, to: moved });
  say(flags, `moved ${escapeControls(from)} to ${escapeControls(moved)}`);
  return 0;
}

/** NEWPATH as a path on REMOTE's server: a location (URL or NAME:PATH), or a path. */
function targetPath(from: Location, newPath: string, flags: MvFlags): string {
  if (isRemoteArgument(newPath, flags)) {
    const to = location(newPath, flags);
    if (to.host !== from.host || to.port !== from.port || to.tls !== from.tls) {
      throw usageError(
        `Cannot move between servers (${hostPort(from)} and ${hostPort(to)}): use bftp get and bftp put`,
      );
    }
    return to.path;
  }
  if (newPath === "") throw usageError("Cannot move to an empty path");
  return newPath.startsWith("/")
    ? newPath
    : path.posix.join(path.posix.dirname(from.path), newPath);
}
