import fs from "node:fs";
import type { RequestOf } from "../../protocol/requests.js";
import type { CommandContext } from "../command-context.js";
import { sharedFsPool } from "../fs-pool.js";
import { normalizeVirtual } from "../sandbox.js";
import { badList, readHave, readList, sendsPhase } from "../tree-lists.js";
import { TreeSender } from "../tree-sender.js";
import { refuseOnObjectStore } from "./stored.js";
import { defineCommand, needs } from "./command.js";

/**
 * GETTREE (PROTOCOL.md §8.13, issue 12): every file below a folder in one tree data phase
 * (§7.4). The folder is opened through the sandbox; below it, the worker pool reaches each
 * name through its open parent with O_NOFOLLOW (links are reported, never followed), reads
 * files in batches of about 1 MiB of records, and hands each batch back as one buffer to
 * write. While one batch goes to the socket, the next is read. A file that changes while
 * read, or cannot be read, is one `E` or `S` record and the tree goes on; an ABORT or a
 * missed batch deadline ends the phase with an error trailer.
 */
export async function getTree(ctx: CommandContext, req: RequestOf<"GETTREE">): Promise<void> {
  refuseOnObjectStore(ctx, "GETTREE");
  if (req.list === true) {
    await getList(ctx, req);
    return;
  }
  const have = req.have === true ? await readHave(ctx.upload) : undefined;
  const opened = await ctx.openInside(req.path, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  try {
    const sender = new TreeSender(ctx, {
      pool: sharedFsPool(),
      alg: req.checksum ?? "crc32",
      have,
      virtualRoot: opened.virtual === "/" ? "" : opened.virtual,
    });
    await sender.run(opened.path, ctx.replyFrame({ path: opened.virtual }));
  } finally {
    await opened.handle.close();
  }
}

/**
 * The list form (§8.13, `"tree-list"`): every path the list names, each file or folder sent
 * under its index in the list, in order, so the client maps each record back to its item.
 */
async function getList(ctx: CommandContext, req: RequestOf<"GETTREE">): Promise<void> {
  const list = await readList(ctx.upload);
  if (req.have === true) throw badList("a list carries its own have entries");
  const base = normalizeVirtual(ctx.cwd, req.path);
  const sender = new TreeSender(ctx, {
    pool: sharedFsPool(),
    alg: req.checksum ?? "crc32",
    have: new Map(
      list.flatMap((entry, i) =>
        entry.size === undefined
          ? []
          : [
              [
                String(i),
                { path: String(i), size: entry.size, mtime: entry.mtime, sha256: entry.sha256 },
              ],
            ],
      ),
    ),
    virtualRoot: base === "/" ? "" : base,
  });
  await sender.runList(base, list, ctx.replyFrame({ path: base }));
}

/** GETTREE: its descriptor (commands/command.ts). */
export const GETTREE = defineCommand({
  op: "GETTREE",
  gate: "session",
  permissions: needs("read"),
  phase: (payload) => (sendsPhase(payload) ? { alg: "crc32" } : undefined),
  run: getTree,
});
