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

/** Flags of `bftp mkdir`. */
export interface MkdirFlags extends CommonFlags {
  readonly parents?: boolean;
}

/** `bftp mkdir REMOTE [-p]`: create a remote folder. */
export function mkdirCommand(): Command {
  return addCommonOptions(
    new Command("mkdir")
      .description("Create a remote folder")
      .argument("<remote>", "the new folder: bftp://[user@]host[:port]/path")
      .option("-p, --parents", "create missing parent folders too; an existing folder is fine"),
  )
    .addHelpText(
      "after",
      `
Examples:
  bftp mkdir bftp://files.local/photos
  bftp mkdir -p bftp://files.local/photos/2024/summer
${EXIT_HELP}`,
    )
    .action(async (remote: string, flags: MkdirFlags) => {
      await runAction(flags, () => mkdir(remote, flags));
    });
}

async function mkdir(remote: string, flags: MkdirFlags): Promise<number> {
  const where = location(remote);
  const created = await withClient(where, flags, async (client) => {
    try {
      return await client.mkdir(where.path, { parents: flags.parents === true });
    } catch (err) {
      throw withHint(err, "BFTP_ERR_NOT_FOUND", "use -p to create the missing parents");
    }
  });
  sayJson(flags, { ok: true, path: created });
  say(flags, `created ${escapeControls(created)}`);
  return 0;
}
