import type { Dir } from "node:fs";
import fs from "node:fs/promises";
import type { RequestOf } from "../../protocol/requests.js";
import { sendDataPhase } from "../../protocol/send-data-phase.js";
import type { CommandContext } from "../command-context.js";
import { toEntry } from "../entry.js";
import { fsError } from "../fs-error.js";
import { LIST_FRAME_BYTES } from "../limits.js";
import { TEMP_PREFIX } from "../sandbox.js";
import { abortRequested } from "./abort.js";
import { objectStore, listStored } from "./stored.js";
import { defineCommand, needs } from "./command.js";

/**
 * LIST (PROTOCOL.md §8.6): entries streamed as JSON arrays of at most 64 KiB per data frame,
 * read from the directory as they are sent, so a directory of any size costs bounded memory.
 * Temporary upload files are never shown. An ABORT queued behind it stops it, as it does GET.
 */
export async function list(ctx: CommandContext, req: RequestOf<"LIST">): Promise<void> {
  const objects = objectStore(ctx);
  if (objects !== undefined) return listStored(ctx, req, objects);
  // The directory is held by a checked descriptor and read through it, so no swap after the
  // check can turn the listing to a folder outside.
  const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW } = fs.constants;
  const target = await ctx.openInside(req.path ?? ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  const dir = await fs.opendir(target.path, { bufferSize: 256 }).catch(async (err: unknown) => {
    await target.handle.close();
    throw fsError(err, "list", target.virtual);
  });
  const counted = { count: 0 };
  const batches = async function* (): AsyncGenerator<Buffer> {
    try {
      yield* listFrames(describedGroups(dir, target.path), counted);
    } catch (err) {
      throw fsError(err, "list", target.virtual);
    }
  };
  try {
    await sendDataPhase(ctx.socket, batches(), {
      alg: "crc32",
      maxChunk: LIST_FRAME_BYTES,
      timeout: ctx.limits.stallTimeoutMs,
      prefix: [ctx.replyFrame({ path: target.virtual })],
      trailerFields: () => ({ count: counted.count }),
      shouldStop: () => abortRequested(ctx),
    });
  } finally {
    await target.handle.close();
  }
}

/**
 * LIST's data frames: entries (JSON, a group at a time) joined into arrays of at most
 * {@link LIST_FRAME_BYTES}; `counted.count` says how many went out (the trailer's `count`).
 */
export async function* listFrames(
  groups: AsyncIterable<readonly string[]>,
  counted: { count: number },
): AsyncGenerator<Buffer> {
  let batch: string[] = [];
  let bytes = 2; // the brackets
  for await (const group of groups) {
    for (const json of group) {
      const size = Buffer.byteLength(json) + 1;
      if (bytes + size > LIST_FRAME_BYTES && batch.length > 0) {
        yield Buffer.from(`[${batch.join(",")}]`);
        batch = [];
        bytes = 2;
      }
      batch.push(json);
      bytes += size;
      counted.count++;
    }
  }
  if (batch.length > 0) yield Buffer.from(`[${batch.join(",")}]`);
}

/** Entries described at once: their lstat calls overlap, so a large folder lists quickly. */
const LSTAT_GROUP = 64;

/**
 * The directory's entries as JSON, a group of at most {@link LSTAT_GROUP} at a time, in the
 * order read. Each group's lstat calls run together (one after another, 100,001 of them took
 * most of a `bftp ls` of such a folder, issue 11 item 7); memory stays bounded by the group.
 */
async function* describedGroups(dir: Dir, at: string): AsyncGenerator<string[]> {
  let names: string[] = [];
  const describe = async (group: readonly string[]): Promise<string[]> => {
    const stats = await Promise.all(
      group.map((name) => fs.lstat(`${at}/${name}`).catch(() => undefined)),
    );
    const out: string[] = [];
    for (const [i, name] of group.entries()) {
      const stat = stats[i];
      if (stat !== undefined) out.push(JSON.stringify(toEntry(name, stat))); // else: removed meanwhile
    }
    return out;
  };
  for await (const dirent of dir) {
    if (dirent.name.startsWith(TEMP_PREFIX)) continue;
    names.push(dirent.name);
    if (names.length === LSTAT_GROUP) {
      yield await describe(names);
      names = [];
    }
  }
  if (names.length > 0) yield await describe(names);
}

/** LIST: its descriptor (commands/command.ts). */
export const LIST = defineCommand({
  op: "LIST",
  gate: "session",
  permissions: needs("read"),
  run: list,
});
