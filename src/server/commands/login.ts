import { setTimeout as sleep } from "node:timers/promises";
import { BftpError } from "../../errors.js";
import type { RequestOf } from "../../protocol/requests.js";
import { ANONYMOUS } from "../accounts/users-file.js";
import type { CommandContext } from "../command-context.js";

/**
 * LOGIN (PROTOCOL.md §8.2). A password is checked by scrypt through the server's gate, and an
 * unknown user costs the same as a wrong password. A failure is answered only after
 * `loginDelayMs`, and the session runs one request at a time, so pipelined LOGINs cannot
 * escape the delay; the `maxLoginFailures`-th failure's reply closes the connection. The
 * password is never logged.
 */
export async function login(ctx: CommandContext, req: RequestOf<"LOGIN">): Promise<void> {
  if (ctx.account !== undefined && ctx.user !== ANONYMOUS) {
    throw new BftpError(
      "BFTP_ERR_BAD_REQUEST",
      `Cannot log in again: this connection is logged in as ${JSON.stringify(ctx.user)}`,
    );
  }
  const account =
    req.user === ANONYMOUS
      ? ctx.accounts.anonymous
      : await ctx.accounts.verify(req.user, req.password ?? "");
  if (account === undefined) return refuse(ctx, req.user);
  ctx.logIn(account);
  ctx.log.info("login", { peer: ctx.peer, user: account.name });
  await ctx.reply({ user: account.name, permissions: [...account.permissions] });
}

async function refuse(ctx: CommandContext, user: string): Promise<never> {
  ctx.loginFailures++;
  const { loginDelayMs, maxLoginFailures } = ctx.limits;
  const last = ctx.loginFailures >= maxLoginFailures;
  ctx.log.warn("login-failed", { peer: ctx.peer, user, failures: ctx.loginFailures });
  await sleep(loginDelayMs);
  const why =
    user === ANONYMOUS
      ? "anonymous access is off on this server"
      : "unknown user or wrong password";
  throw new BftpError(
    "BFTP_ERR_LOGIN_FAILED",
    last
      ? `Cannot log in as ${JSON.stringify(user)}: ${why}; closing after ${maxLoginFailures} failures`
      : `Cannot log in as ${JSON.stringify(user)}: ${why}`,
    { details: { failures: ctx.loginFailures }, connectionUsable: !last },
  );
}
