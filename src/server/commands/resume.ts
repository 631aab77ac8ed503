import { createHash } from "node:crypto";
import fs, { type FileHandle } from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { BftpError } from "../../errors.js";
import type { RequestOf } from "../../protocol/requests.js";
import type { CommandContext } from "../command-context.js";
import { fsError } from "../fs-error.js";
import { partialKey, resumeName } from "../temp-files.js";
import { objectStore, resumeStored } from "./stored.js";
import { defineCommand, needs } from "./command.js";

/** RESUME (PROTOCOL.md §8.11, §10): the length and SHA-256 of the partial upload kept for a path. */
export async function resume(ctx: CommandContext, req: RequestOf<"RESUME">): Promise<void> {
  const objects = objectStore(ctx);
  if (objects !== undefined) return resumeStored(ctx, req, objects);
  // Through the resolver that follows a last link, as every command that reads does: a link
  // that leads out of the root is refused (issue 11, item 10), not reported as no partial.
  await ctx.sandbox.resolve(ctx.cwd, req.path);
  const target = await ctx.anchor(req.path);
  let handle: FileHandle | undefined;
  try {
    const area = await ctx.staging.areaFor(ctx.sandbox.root, target).catch((err: unknown) => {
      throw fsError(err, "resume", target.virtual);
    });
    const key = partialKey(ctx.user ?? "", ctx.sandbox.root, target.virtual);
    try {
      handle = await fs.open(
        path.join(area, resumeName(key)),
        fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW,
      );
    } catch (err) {
      if ((err as { code?: unknown }).code === "ENOENT") {
        throw new BftpError(
          "BFTP_ERR_NOT_FOUND",
          `Cannot resume ${JSON.stringify(target.virtual)}: no partial upload is kept for it`,
        );
      }
      throw fsError(err, "resume", target.virtual);
    }
    const { size } = await handle.stat();
    const digest = createHash("sha256");
    // Exactly `size` bytes: an upload that claims the partial meanwhile may append to it.
    if (size > 0) {
      await pipeline(
        handle.createReadStream({
          autoClose: false,
          start: 0,
          end: size - 1,
          highWaterMark: 1 << 20,
        }),
        digest,
      );
    }
    await ctx.reply({ offset: size, sha256: digest.digest("hex") });
  } finally {
    await handle?.close();
    await target.close();
  }
}

/** RESUME: its descriptor (commands/command.ts). */
export const RESUME = defineCommand({
  op: "RESUME",
  gate: "session",
  permissions: needs("write"),
  run: resume,
});
