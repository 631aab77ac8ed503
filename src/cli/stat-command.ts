import { Command } from "commander";
import { escapeControls } from "../client/safe-name.js";
import {
  EXIT_HELP,
  addCommonOptions,
  formatBytes,
  location,
  runAction,
  say,
  sayJson,
  withClient,
  type CommonFlags,
} from "./common.js";
import { formatDate } from "./ls-command.js";

/** `bftp stat REMOTE`: describe one remote file or folder. */
export function statCommand(): Command {
  return addCommonOptions(
    new Command("stat")
      .description("Describe a remote file or folder: type, size, last change")
      .argument("<remote>", "bftp://[user@]host[:port]/path"),
  )
    .addHelpText(
      "after",
      `
Examples:
  bftp stat bftp://files.local/docs/report.pdf
  bftp stat --json bftp://127.0.0.1:9000/docs | jq .entry.type
${EXIT_HELP}`,
    )
    .action(async (remote: string, flags: CommonFlags) => {
      await runAction(flags, () => stat(remote, flags));
    });
}

async function stat(remote: string, flags: CommonFlags): Promise<number> {
  const where = location(remote);
  const entry = await withClient(where, flags, (client) => client.stat(where.path));
  sayJson(flags, { ok: true, path: where.path, entry });
  const size =
    entry.type === "dir" ? `${entry.size}` : `${entry.size} (${formatBytes(entry.size)})`;
  say(
    flags,
    [
      `    path: ${escapeControls(where.path)}`,
      `    type: ${entry.type}`,
      `    size: ${size}`,
      `modified: ${formatDate(entry.mtime)} (${new Date(entry.mtime).toISOString()})`,
    ].join("\n"),
  );
  return 0;
}
