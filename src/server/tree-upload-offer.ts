import fsp from "node:fs/promises";
import fs from "node:fs";
import { promisify } from "node:util";
import { crc32 } from "../protocol/crc32.js";
import { BftpError, isBftpError } from "../errors.js";
import { crc32Hex } from "../protocol/checksum.js";
import type { DataPhaseReader } from "../protocol/data-phase-reader.js";
import { heldFrames } from "../protocol/held-list.js";
import { encodeMessage, toWireError } from "../protocol/replies.js";
import type { HaveEntry } from "../protocol/tree-records.js";
import { HEX_SIZE_HEADER } from "../wire/size-header.js";
import { writeAll } from "../wire/write-all.js";
import type { CommandContext } from "./command-context.js";
import { readHave } from "./tree-lists.js";
import { sha256Of } from "./tree-sender.js";
import { sharedFsPool } from "./fs-pool.js";
import type { HeldFilesResult, HeldItem } from "./tree-upload-held.js";

const close = promisify(fs.close);

/** Offered files one batch checks at most (bounds the job message). */
const BATCH_ITEMS = 4096;
/** Bytes one batch hashes at most (entries with `sha256`) before it answers. */
const BATCH_HASH_BYTES = 64 * 1024 * 1024;
/** A file to hash larger than this is hashed here, from the descriptor the worker opened. */
const BIG_FILE = 8 * 1024 * 1024;
/** Deadline of one batch on the pool (as GETTREE's, §8.13). */
const BATCH_TIMEOUT_MS = 30_000;
/** A large file's hash gets this long per MiB on top of a batch's deadline (a hung disk ends it). */
const HASH_MS_PER_MIB = 100;

/**
 * Whether a PUTTREE request says an offer follows it (PROTOCOL.md §8.14, `"puttree-offer"`),
 * read from the raw frame so that a request refused for another field still has its offer
 * read and dropped (as GETTREE's have list, §8.13).
 */
export function sendsOffer(payload: Buffer): boolean {
  try {
    const value = JSON.parse(payload.toString("utf8")) as unknown;
    return (
      typeof value === "object" && value !== null && (value as { offer?: unknown }).offer === true
    );
  } catch {
    return false;
  }
}

/**
 * PUTTREE's offer (§8.14): the have list's format and limits (§8.13), read whole before the
 * reply. More than its limits, or a malformed frame: `BFTP_ERR_BAD_REQUEST`, once read.
 */
export function readOffer(phase: DataPhaseReader | undefined): Promise<Map<string, HaveEntry>> {
  return readHave(phase, "offer");
}

/** What the held phase did: the files held, or why it ended early (sent in its trailer). */
export interface HeldOutcome {
  readonly held: number;
  readonly failure: BftpError | undefined;
}

/**
 * PUTTREE's held phase (§8.14), after the reply: which offered files the target folder
 * already holds complete, checked in batches on the worker pool (tree-upload-held.ts), one
 * data frame of paths per batch (`[]` when it held none), then the terminator and a CRC-32
 * trailer. A batch that misses its deadline, a pool that is full, or a server winding down
 * ends the phase with an error trailer, and the command with it (the client sends no
 * records). A failed write throws: the connection is over.
 */
export async function sendHeld(
  ctx: CommandContext,
  options: { readonly rootFd: number; readonly offer: ReadonlyMap<string, HaveEntry> },
): Promise<HeldOutcome> {
  const items: HeldItem[] = [...options.offer.values()];
  const wait = { timeout: ctx.limits.stallTimeoutMs };
  let crc = 0;
  let held = 0;
  let failure: BftpError | undefined;
  try {
    for (let at = 0; at < items.length;) {
      if (ctx.windingDown) throw shuttingDown();
      const batch = items.slice(at, at + BATCH_ITEMS);
      const result = await sharedFsPool().run<HeldFilesResult>(
        {
          op: "heldFiles",
          rootFd: options.rootFd,
          items: batch,
          budget: BATCH_HASH_BYTES,
          bigAt: BIG_FILE,
        },
        BATCH_TIMEOUT_MS,
      );
      const paths = result.held.map((i) => (batch[i] as HeldItem).path);
      if (result.big !== undefined) {
        const item = batch[result.big.index] as HeldItem;
        if (await bigHeld(result.big.fd, item)) paths.push(item.path);
      }
      at += Math.max(1, result.consumed);
      held += paths.length;
      const frames = heldFrames(paths);
      for (let i = 1; i < frames.length; i += 2) crc = crc32(frames[i] as Buffer, crc);
      await writeAll(ctx.socket, frames, wait).catch(lost);
    }
  } catch (err) {
    if (isBftpError(err) && err.connectionUsable === false) throw err;
    failure = isBftpError(err) && err.status !== undefined ? err : internal(err);
    if (failure.code === "BFTP_ERR_INTERNAL")
      ctx.log.error("internal", { peer: ctx.peer, op: "PUTTREE", error: String(err) });
  }
  const trailer =
    failure === undefined
      ? { ok: true, checksum: { alg: "crc32", value: crc32Hex(crc) } }
      : { ok: false, error: toWireError(failure) };
  await writeAll(ctx.socket, [HEX_SIZE_HEADER.encode(0), encodeMessage(trailer)], wait).catch(lost);
  return { held, failure };
}

/**
 * Whether a large offered file is held: its SHA-256 computed here from the descriptor the
 * worker opened (O_NOFOLLOW, size already matched), a MiB per read, under a deadline that
 * grows with its size; the descriptor is closed either way.
 */
async function bigHeld(fd: number, item: HeldItem): Promise<boolean> {
  let handle: fsp.FileHandle | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    handle = await fsp.open(`/proc/self/fd/${fd}`, "r");
    const hashing = sha256Of(handle, item.size);
    hashing.catch(() => undefined); // a hash past its deadline fails once its handle closes
    const ms = BATCH_TIMEOUT_MS + Math.ceil(item.size / (1024 * 1024)) * HASH_MS_PER_MIB;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(
          new BftpError("BFTP_ERR_TIMEOUT", "Cannot check the offer: a file took too long to read"),
        );
      }, ms);
    });
    return (await Promise.race([hashing, deadline])) === item.sha256;
  } catch (err) {
    if (isBftpError(err, "BFTP_ERR_TIMEOUT")) throw err;
    return false; // unreadable: not held; the client sends it
  } finally {
    clearTimeout(timer);
    await handle?.close().catch(() => undefined);
    await close(fd).catch(() => undefined);
  }
}

function shuttingDown(): BftpError {
  return new BftpError("BFTP_ERR_SHUTTING_DOWN", "Cannot check the offer: the server is stopping");
}

function internal(err: unknown): BftpError {
  return new BftpError("BFTP_ERR_INTERNAL", "internal error", { cause: err });
}

/** A write that failed: the held phase cannot be finished, and the connection is over. */
function lost(err: unknown): never {
  throw new BftpError(
    "BFTP_ERR_CONNECTION_LOST",
    "Cannot send the held list: the connection failed",
    {
      cause: err,
      connectionUsable: false,
    },
  );
}
