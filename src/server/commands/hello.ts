import { BftpError } from "../../errors.js";
import type { RequestOf } from "../../protocol/requests.js";
import { CAPABILITIES, CHECKSUM_ALGORITHMS, PROTOCOL_VERSION } from "../../protocol/version.js";
import type { CommandContext } from "../command-context.js";
import { PACKAGE_VERSION } from "../../package-version.js";
import { objectStore } from "./stored.js";
import { defineCommand, needs } from "./command.js";

/** The capabilities of the tree streams (GETTREE, PUTTREE), which need the disk. */
const TREE_CAPABILITIES = new Set<string>(["tree", "puttree", "tree-list", "puttree-offer"]);

/** HELLO (PROTOCOL.md §8.1): agree on the version, announce limits and capabilities. */
export async function hello(ctx: CommandContext, req: RequestOf<"HELLO">): Promise<void> {
  if (ctx.helloDone)
    throw new BftpError("BFTP_ERR_BAD_REQUEST", "Cannot run HELLO twice on one connection");
  if (!req.versions.includes(PROTOCOL_VERSION)) {
    throw new BftpError(
      "BFTP_ERR_UNSUPPORTED_VERSION",
      `Cannot speak versions ${JSON.stringify(req.versions)}: this server speaks ${PROTOCOL_VERSION}`,
    );
  }
  ctx.helloDone = true;
  // Without accounts, or with anonymous access turned on, the session is anonymous until it
  // logs in; otherwise nothing but LOGIN (and NOOP, HELP, QUIT) until then (PROTOCOL.md §3).
  const { anonymous } = ctx.accounts;
  if (anonymous !== undefined) ctx.logIn(anonymous);
  const { limits } = ctx;
  await ctx.reply({
    version: PROTOCOL_VERSION,
    server: `bftp/${PACKAGE_VERSION}`,
    auth: { required: ctx.accounts.required, methods: ctx.accounts.methods },
    limits: {
      maxControlFrame: limits.maxControlFrame,
      maxChunk: limits.maxChunk,
      readAheadBytes: limits.readAheadBytes,
      idleTimeoutMs: limits.idleTimeoutMs,
      frameTimeoutMs: limits.frameTimeoutMs,
      stallTimeoutMs: limits.stallTimeoutMs,
    },
    checksums: CHECKSUM_ALGORITHMS,
    // An object store serves trees file by file: clients then use the per-file commands.
    capabilities:
      objectStore(ctx) === undefined
        ? CAPABILITIES
        : CAPABILITIES.filter((c) => !TREE_CAPABILITIES.has(c)),
  });
}

/** HELLO: its descriptor (commands/command.ts). */
export const HELLO = defineCommand({
  op: "HELLO",
  gate: "any",
  permissions: needs(),
  run: hello,
});
