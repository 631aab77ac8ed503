import { BftpError } from "../../errors.js";
import type { RequestOf } from "../../protocol/requests.js";
import type { CommandContext } from "../command-context.js";

/** LOGIN (PROTOCOL.md §8.2): this revision knows only the anonymous user. */
export async function login(ctx: CommandContext, req: RequestOf<"LOGIN">): Promise<void> {
  if (req.user !== "anonymous") {
    throw new BftpError(
      "BFTP_ERR_NOT_AUTHENTICATED",
      "Cannot log in: unknown user or wrong password",
    );
  }
  ctx.user = "anonymous";
  await ctx.reply({ user: ctx.user });
}
