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
  type CommonFlags,
} from "./common.js";

/** `bftp hash REMOTE`: the SHA-256 of a remote file, printed as `sha256sum` prints it. */
export function hashCommand(): Command {
  return addCommonOptions(
    new Command("hash")
      .description("Print the SHA-256 of a remote file, as sha256sum does")
      .argument("<remote>", "the file: bftp://[user@]host[:port]/path"),
  )
    .addHelpText(
      "after",
      `
The server reads the file; nothing is downloaded. The line is "HEX  PATH", so it can be
compared with sha256sum's output of a local copy.

Examples:
  bftp hash bftp://files.local/iso/big.iso
  bftp hash bftp://files.local/a.txt; sha256sum a.txt
  bftp hash --json bftp://127.0.0.1:9000/a.txt | jq -r .value
${EXIT_HELP}`,
    )
    .action(async (remote: string, flags: CommonFlags) => {
      await runAction(flags, () => hash(remote, flags));
    });
}

async function hash(remote: string, flags: CommonFlags): Promise<number> {
  const where = location(remote);
  const value = await withClient(where, flags, (client) => client.hash(where.path));
  sayJson(flags, { ok: true, path: where.path, alg: "sha256", value });
  say(flags, `${value}  ${escapeControls(where.path)}`);
  return 0;
}
