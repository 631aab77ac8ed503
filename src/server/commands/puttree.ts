import fs from "node:fs";
import type { RequestOf } from "../../protocol/requests.js";
import type { CommandContext } from "../command-context.js";
import { fsError } from "../fs-error.js";
import { readOffer, sendHeld, sendsOffer } from "../tree-upload-offer.js";
import { TreeUploadSink } from "../tree-upload-sink.js";
import { refuseOnObjectStore } from "./stored.js";
import { defineCommand } from "./command.js";

/**
 * PUTTREE (PROTOCOL.md §8.14, issue 12): files into a folder, recursively, in one records
 * phase (§7.4) from the client, answered by a results phase (one `R` per file) running at
 * the same time. The folder must exist and is opened through the sandbox; each file is staged
 * outside the served tree (upload-staging.ts, as PUT), checked against its own checksum, and
 * committed into its folder, reached one name at a time with O_NOFOLLOW from the open root,
 * by one atomic step. A failing file costs that file (its `R` says why); a broken stream
 * ends the connection, keeping what was committed and removing every staging file.
 */
export async function putTree(ctx: CommandContext, req: RequestOf<"PUTTREE">): Promise<void> {
  refuseOnObjectStore(ctx, "PUTTREE");
  // The offer (§8.14, "puttree-offer") is read whole before anything else is decided.
  const offer = req.offer === true ? await readOffer(ctx.upload) : undefined;
  const opened = await ctx.openInside(req.path, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  try {
    // The staging folder is chosen once, for the target folder's file system (§8.14).
    const anchor = await ctx.anchor(req.path);
    let area: string;
    try {
      area = await ctx.staging.areaFor(ctx.sandbox.root, anchor).catch((err: unknown) => {
        throw fsError(err, "upload to", opened.virtual);
      });
    } finally {
      await anchor.close();
    }
    const options = {
      rootFd: opened.handle.fd,
      virtualRoot: opened.virtual === "/" ? "" : opened.virtual,
      area,
      alg: req.checksum ?? "crc32",
      overwrite: req.overwrite === true,
    };
    await ctx.reply({ path: opened.virtual });
    // The held phase; an error trailer there ends the command: no records follow it.
    const held = offer && (await sendHeld(ctx, { rootFd: options.rootFd, offer }));
    if (held?.failure !== undefined) return;
    await new TreeUploadSink(ctx, { ...options, held: held?.held }).run();
  } finally {
    await opened.handle.close();
  }
}

/** PUTTREE: its descriptor (commands/command.ts). */
export const PUTTREE = defineCommand({
  op: "PUTTREE",
  gate: "session",
  permissions: (req) =>
    req.overwrite === true ? ["write", "mkdir", "delete"] : ["write", "mkdir"],
  phase: (payload) => (sendsOffer(payload) ? { alg: "crc32" } : undefined),
  run: putTree,
});
