import { BftpError } from "../../errors.js";
import { parseRequest } from "../../protocol/requests.js";
import type { CommandContext } from "../command-context.js";

/** ABORT (PROTOCOL.md §7.2, §8.12): says whether it stopped the download before it. */
export async function abort(ctx: CommandContext): Promise<void> {
  const aborted = ctx.transferAborted;
  ctx.transferAborted = false;
  await ctx.reply({ aborted });
}

/**
 * Asked between the data frames of a download (GET, LIST): an ABORT waiting at the head of
 * the request queue stops it (PROTOCOL.md §7.2), and the ABORT then replies `aborted: true`.
 */
export function abortRequested(ctx: CommandContext): BftpError | undefined {
  const next = ctx.nextRequest();
  if (next === undefined) return undefined;
  const parsed = parseRequest(next);
  if (!parsed.ok || parsed.request.op !== "ABORT") return undefined;
  ctx.transferAborted = true;
  return new BftpError("BFTP_ERR_TRANSFER_ABORTED", "The client aborted the download");
}
