import { Command } from "commander";
import type { Entry } from "../client/reply-shapes.js";
import { escapeControls } from "../client/safe-name.js";
import { isBftpError } from "../errors.js";
import {
  EXIT_HELP,
  addCommonOptions,
  location,
  runAction,
  say,
  sayJson,
  withClient,
  type CommonFlags,
} from "./common.js";

const TYPE_CHAR: Readonly<Record<Entry["type"], string>> = {
  file: "-",
  dir: "d",
  symlink: "l",
  other: "?",
};

/** `bftp ls REMOTE`: list a remote folder like `ls -l`, sorted by name. */
export function lsCommand(): Command {
  return addCommonOptions(
    new Command("ls")
      .description("List a remote folder (or describe one file), like ls -l")
      .argument("<remote>", "the folder: bftp://[user@]host[:port]/path"),
  )
    .addHelpText(
      "after",
      `
Each line is TYPE SIZE DATE NAME: type "-" file, "d" folder, "l" link, "?" other; size in
bytes; date of last change in local time. Names are sorted; control characters in them are
shown escaped (\\n, \\x1b), so a hostile name cannot redraw the terminal.

Examples:
  bftp ls bftp://files.local/
  bftp ls bftp://files.local:9000/photos/2024
  bftp ls --json bftp://127.0.0.1:9000/ | jq '.entries[] | select(.type == "file") | .name'
${EXIT_HELP}`,
    )
    .action(async (remote: string, flags: CommonFlags) => {
      await runAction(flags, () => ls(remote, flags));
    });
}

async function ls(remote: string, flags: CommonFlags): Promise<number> {
  const where = location(remote);
  const entries = await withClient(where, flags, async (client) => {
    try {
      return await client.list(where.path);
    } catch (err) {
      // `ls FILE` describes the file, as ls does.
      if (!isBftpError(err, "BFTP_ERR_NOT_A_DIRECTORY")) throw err;
      return [await client.stat(where.path)];
    }
  });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  sayJson(flags, { ok: true, path: where.path, entries });
  if (entries.length > 0) say(flags, formatListing(entries).join("\n"));
  return 0;
}

/**
 * Lines like `ls -l`: `TYPE SIZE DATE NAME`, sizes right-aligned, names escaped.
 *
 * @example
 * formatListing([{ name: "a.txt", type: "file", size: 5, mtime: 0 }]);
 * // ["- 5 1970-01-01 00:00 a.txt"] (in UTC)
 */
export function formatListing(entries: readonly Entry[]): string[] {
  const width = Math.max(...entries.map((e) => String(e.size).length));
  return entries.map(
    (e) =>
      `${TYPE_CHAR[e.type]} ${String(e.size).padStart(width)} ${formatDate(e.mtime)} ${escapeControls(e.name)}`,
  );
}

/** `YYYY-MM-DD HH:MM` in local time. */
export function formatDate(ms: number): string {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return "????-??-?? ??:??";
  const two = (n: number): string => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}`;
}
