import fs from "node:fs/promises";
import path from "node:path";
import type { RequestOf } from "../../protocol/requests.js";
import type { CommandContext } from "../command-context.js";
import { toEntry } from "../entry.js";
import { O_PATH } from "../sandbox.js";
import type { Prepared } from "./prepared.js";
import { objectStore, statStored } from "./stored.js";
import { defineCommand, needs } from "./command.js";

/**
 * STAT (PROTOCOL.md §8.5): follows links that stay inside the root. The file is held by an
 * O_PATH descriptor checked to lie inside, and described through it: nothing is opened for
 * I/O (a FIFO or a device is only described), and no swap can redirect the answer.
 */
export async function stat(ctx: CommandContext, req: RequestOf<"STAT">): Promise<void> {
  const objects = objectStore(ctx);
  if (objects !== undefined) return statStored(ctx, req, objects);
  await (await prepareStat(ctx, req)).run(ctx);
}

/** STAT's file-system work, which may run before its turn (issue 5); the turn only replies. */
export async function prepareStat(ctx: CommandContext, req: RequestOf<"STAT">): Promise<Prepared> {
  if (objectStore(ctx) !== undefined) {
    return { run: (turn) => stat(turn, req), release: () => Promise.resolve() };
  }
  const target = await ctx.openInside(req.path, O_PATH | fs.constants.O_NOFOLLOW);
  let entry;
  try {
    entry = toEntry(path.posix.basename(target.virtual), await target.handle.stat());
  } finally {
    await target.handle.close();
  }
  return {
    run: (turn) => turn.reply({ entry }),
    release: () => Promise.resolve(),
  };
}

/** STAT: its descriptor (commands/command.ts). */
export const STAT = defineCommand({
  op: "STAT",
  gate: "session",
  permissions: needs("read"),
  prepare: prepareStat,
  run: stat,
});
