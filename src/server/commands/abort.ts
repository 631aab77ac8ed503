import { BftpError } from "../../errors.js";
import { parseRequest } from "../../protocol/requests.js";
import type { CommandContext } from "../command-context.js";
import { defineCommand, needs } from "./command.js";

/** ABORT (PROTOCOL.md §7.2, §8.12): says whether it stopped the download before it. */
export async function abort(ctx: CommandContext): Promise<void> {
  const aborted = ctx.transferAborted;
  ctx.transferAborted = false;
  await ctx.reply({ aborted });
}

/**
 * Asked between the data frames of a download (GET, LIST): an ABORT waiting at the head of
 * the request queue stops it (PROTOCOL.md §7.2), and the ABORT then replies `aborted: true`;
 * a server winding down stops it with BFTP_ERR_SHUTTING_DOWN (§5.2).
 */
export function abortRequested(ctx: CommandContext): BftpError | undefined {
  // The server is stopping and its grace is nearly spent: say so in the trailer, rather than
  // let the connection be cut with no reason given (issue 11, item 10d).
  if (ctx.windingDown) {
    return new BftpError(
      "BFTP_ERR_SHUTTING_DOWN",
      "Cannot finish the download: the server is stopping",
    );
  }
  const next = ctx.nextRequest();
  if (next === undefined) return undefined;
  const parsed = parseRequest(next);
  if (!parsed.ok || parsed.request.op !== "ABORT") return undefined;
  ctx.transferAborted = true;
  return new BftpError("BFTP_ERR_TRANSFER_ABORTED", "The client aborted the download");
}

/** ABORT: its descriptor (commands/command.ts). */
export const ABORT = defineCommand({
  op: "ABORT",
  gate: "session",
  permissions: needs(),
  run: abort,
});
