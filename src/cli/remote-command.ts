import { Command } from "commander";
import type { BftpClient } from "../client/client.js";
import { commandEndpoint, type Endpoint } from "./run-transfer.js";
import {
  EXIT_HELP,
  addCommonOptions,
  location,
  runAction,
  say,
  sayJson,
  type CommonFlags,
} from "./common.js";

/** What a command on one remote path found or did, for both kinds of output. */
export interface RemoteOutcome {
  /** The fields of the --json document after `ok: true`, in the order they are printed. */
  readonly json: Readonly<Record<string, unknown>>;
  /** What people see (unless -q or --json); undefined prints nothing. */
  readonly line: string | undefined;
  /** True when `run` printed its output itself as it went (a large `bftp ls`): nothing more is. */
  readonly printed?: boolean;
}

/** A flag of its own, besides the common ones: commander's spelling and help. */
export interface RemoteOption {
  /** E.g. `-p, --parents`. */
  readonly flags: string;
  readonly description: string;
}

/** One `bftp NAME <remote>` command: its help, and what it asks of the server. */
export interface RemoteCommandSpec<F extends CommonFlags = CommonFlags> {
  readonly name: string;
  /** One line for `bftp --help` and the top of `bftp NAME --help`. */
  readonly description: string;
  /** The help of the `<remote>` argument. */
  readonly argument: string;
  /** Listed before the common flags. */
  readonly options?: readonly RemoteOption[];
  /** A paragraph of help before the examples. */
  readonly about?: string;
  /** Command lines, one an example. */
  readonly examples: readonly string[];
  /**
   * Runs on a connected client, with the remote path of the location. Its failures are
   * reported by {@link runAction}; the connection is closed before anything is printed.
   */
  readonly run: (client: BftpClient, path: string, flags: F) => Promise<RemoteOutcome>;
}

/**
 * Builds `bftp NAME [options] <remote>` from its table entry: the common flags, help that
 * ends with the examples and the exit-code table, and an action that connects, runs the
 * entry, prints `{"ok":true,...}` with --json or its line otherwise, and exits 0 (a failure
 * exits as {@link runAction} decides).
 *
 * @example
 * program.addCommand(
 *   remoteCommand({
 *     name: "hash",
 *     description: "Print the SHA-256 of a remote file",
 *     argument: "the file: bftp://[user@]host[:port]/path",
 *     examples: ["bftp hash bftp://files.local/a.txt"],
 *     run: async (client, path) => {
 *       const value = await client.hash(path);
 *       return { json: { path, value }, line: `${value}  ${path}` };
 *     },
 *   }),
 * );
 */
export function remoteCommand<F extends CommonFlags>(spec: RemoteCommandSpec<F>): Command {
  const command = new Command(spec.name)
    .description(spec.description)
    .argument("<remote>", spec.argument);
  for (const option of spec.options ?? []) command.option(option.flags, option.description);
  return addCommonOptions(command)
    .addHelpText("after", helpAfter(spec))
    .action(async (remote: string, flags: F) => {
      await runAction(flags, () => {
        const where = location(remote, flags);
        return remoteOperation(commandEndpoint(where, flags), spec, where.path, flags);
      });
    });
}

/**
 * One of the table's commands on `endpoint`, behind `bftp NAME` and the shell's command of the
 * same name (issue 13, item 9): runs it on `path`, then prints `{"ok":true,...}` with --json
 * or its line otherwise (the connection closed first, for the command line). Resolves with 0.
 */
export async function remoteOperation<F extends CommonFlags>(
  endpoint: Endpoint,
  spec: RemoteCommandSpec<F>,
  path: string,
  flags: F,
): Promise<number> {
  const outcome = await endpoint.use((client) => spec.run(client, path, flags));
  if (outcome.printed === true) return 0;
  sayJson(flags, { ok: true, ...outcome.json });
  if (outcome.line !== undefined) say(flags, outcome.line);
  return 0;
}

/** The text after the options: the paragraph, the examples, the exit codes. */
function helpAfter(spec: Pick<RemoteCommandSpec, "about" | "examples">): string {
  const about = spec.about === undefined ? "" : `${spec.about}\n\n`;
  const examples = spec.examples.map((line) => `  ${line}`).join("\n");
  return `\n${about}Examples:\n${examples}\n${EXIT_HELP}`;
}
