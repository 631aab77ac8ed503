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

/** `bftp rmdir REMOTE`: remove an empty remote folder. */
export function rmdirCommand(): Command {
  return addCommonOptions(
    new Command("rmdir")
      .description("Remove an empty remote folder")
      .argument("<remote>", "the folder: bftp://[user@]host[:port]/path"),
  )
    .addHelpText(
      "after",
      `
Examples:
  bftp rmdir bftp://files.local/old
  bftp rmdir --json bftp://127.0.0.1:9000/tmp/empty
${EXIT_HELP}`,
    )
    .action(async (remote: string, flags: CommonFlags) => {
      await runAction(flags, () => rmdir(remote, flags));
    });
}

async function rmdir(remote: string, flags: CommonFlags): Promise<number> {
  const where = location(remote);
  await withClient(where, flags, async (client) => {
    try {
      await client.rmdir(where.path);
    } catch (err) {
      throw withHint(err, "BFTP_ERR_NOT_EMPTY", "remove what is inside it first");
    }
  });
  sayJson(flags, { ok: true, path: where.path });
  say(flags, `removed folder ${escapeControls(where.path)}`);
  return 0;
}
