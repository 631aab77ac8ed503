import { Command } from "commander";
import { escapeControls } from "../client/safe-name.js";
import {
  EXIT_HELP,
  addCommonOptions,
  location,
  runAction,
  say,
  sayJson,
  withClient,
  withHint,
  type CommonFlags,
} from "./common.js";

/** `bftp rm REMOTE`: delete a remote file. */
export function rmCommand(): Command {
  return addCommonOptions(
    new Command("rm")
      .description("Delete a remote file (folders: bftp rmdir)")
      .argument("<remote>", "the file: bftp://[user@]host[:port]/path"),
  )
    .addHelpText(
      "after",
      `
Examples:
  bftp rm bftp://files.local/docs/old-report.pdf
  bftp rm -q "bftp://files.local/with space.txt"
${EXIT_HELP}`,
    )
    .action(async (remote: string, flags: CommonFlags) => {
      await runAction(flags, () => rm(remote, flags));
    });
}

async function rm(remote: string, flags: CommonFlags): Promise<number> {
  const where = location(remote);
  await withClient(where, flags, async (client) => {
    try {
      await client.delete(where.path);
    } catch (err) {
      throw withHint(err, "BFTP_ERR_IS_A_DIRECTORY", "folders go with bftp rmdir");
    }
  });
  sayJson(flags, { ok: true, path: where.path });
  say(flags, `removed ${escapeControls(where.path)}`);
  return 0;
}
