import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { BftpError } from "../../errors.js";
import type { RequestOf } from "../../protocol/requests.js";
import { loginSignedData } from "../../protocol/key-login.js";
import { verifySignature } from "../accounts/public-keys.js";
import { ANONYMOUS } from "../accounts/users-file.js";
import type { CommandContext } from "../command-context.js";
import { defineCommand, needs } from "./command.js";

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
  // A challenge is good for the one LOGIN that follows it, whatever that LOGIN is.
  const issued = ctx.loginChallenge;
  ctx.loginChallenge = undefined;
  if (req.method === "publickey" && req.user !== ANONYMOUS) {
    await keyLogin(ctx, req, issued);
    return;
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

/**
 * Key login (PROTOCOL.md §8.2.1). First step, `key` alone: the server answers a fresh random
 * challenge for this connection, whether or not the key or the user exists (nothing is
 * revealed before a signature). Second step, `key` and `signature`: the signature must verify
 * over {@link loginSignedData} with that key, and the key must be one of the account's; any
 * other outcome is the same refusal, after the same delay, as a wrong password.
 */
async function keyLogin(
  ctx: CommandContext,
  req: RequestOf<"LOGIN">,
  issued: CommandContext["loginChallenge"],
): Promise<void> {
  if (req.key === undefined) {
    throw new BftpError("BFTP_ERR_BAD_REQUEST", 'Cannot log in with "publickey" without a key');
  }
  if (req.signature === undefined) {
    const challenge = randomBytes(32);
    ctx.loginChallenge = { user: req.user, key: req.key, challenge };
    await ctx.reply({ challenge: challenge.toString("base64") });
    return;
  }
  const blob = Buffer.from(req.key, "base64");
  const signature = Buffer.from(req.signature, "base64");
  const account =
    issued !== undefined && issued.user === req.user && issued.key === req.key
      ? ctx.accounts.keyAccount(req.user, blob)
      : undefined;
  const proven =
    account !== undefined &&
    issued !== undefined &&
    verifySignature(blob, loginSignedData(issued.challenge, req.user, blob), signature);
  if (!proven) return refuse(ctx, req.user, "unknown user, or a key that is not theirs");
  ctx.logIn(account);
  ctx.log.info("login", { peer: ctx.peer, user: account.name, method: "publickey" });
  await ctx.reply({ user: account.name, permissions: [...account.permissions] });
}

async function refuse(ctx: CommandContext, user: string, reason?: string): Promise<never> {
  ctx.loginFailures++;
  const { loginDelayMs, maxLoginFailures } = ctx.limits;
  const last = ctx.loginFailures >= maxLoginFailures;
  ctx.log.warn("login-failed", { peer: ctx.peer, user, failures: ctx.loginFailures });
  await sleep(loginDelayMs);
  const why =
    reason ??
    (user === ANONYMOUS
      ? "anonymous access is off on this server"
      : "unknown user or wrong password");
  throw new BftpError(
    "BFTP_ERR_LOGIN_FAILED",
    last
      ? `Cannot log in as ${JSON.stringify(user)}: ${why}; closing after ${maxLoginFailures} failures`
      : `Cannot log in as ${JSON.stringify(user)}: ${why}`,
    { details: { failures: ctx.loginFailures }, connectionUsable: !last },
  );
}

/** LOGIN: its descriptor (commands/command.ts). */
export const LOGIN = defineCommand({
  op: "LOGIN",
  gate: "hello",
  permissions: needs(),
  run: login,
});
