import fs from "node:fs";
import path from "node:path";
import { nodeCrypto } from "../node-crypto.js";
import { crc32 } from "../protocol/crc32.js";
import { crc32Hex } from "../protocol/checksum.js";
import { remoteError } from "../protocol/replies.js";
import { TreeDecoder, type TreeEvent } from "../protocol/tree-decoder.js";
import { readTreePhase } from "../protocol/tree-phase-reader.js";
import type { HaveEntry } from "../protocol/tree-records.js";
import type { ChecksumAlg } from "../protocol/version.js";
import { jsonArrayFrames } from "../protocol/json-array-frames.js";
import { HEX_SIZE_HEADER } from "../wire/size-header.js";
import { writeAll } from "../wire/write-all.js";
import type { BftpClient } from "./client.js";
import type { ClientConnection } from "./connection.js";
import type { DownloadOptions } from "./download.js";
import { expectShape, pathReply } from "./reply-shapes.js";
import type { BatchOptions, BatchResult } from "./tree.js";
import { TreeSink } from "./tree-sink.js";
import { PARTIAL_SUFFIX } from "./partial-name.js";
import { localOffer } from "./tree-offer.js";

/** Bytes of JSON per have-list or path-list frame (well under any server's `maxChunk`). */
const ARRAY_FRAME_BYTES = 64 * 1024;
/** Most have-list entries sent (PROTOCOL.md §8.13's limit). */
const MAX_HAVE = 1_000_000;

/** How a sync tells which files the receiver already holds (client/sync.ts). */
export interface TreeCompareOptions {
  /**
   * Name every file the receiver holds, by size and modification time or by SHA-256, so
   * that the sender skips those that match (`bftp sync`); with `overwrite`, the others are
   * replaced. Without it, only `resume` names held files (by SHA-256, for `-c`).
   */
  readonly compare?: "size-mtime" | "sha256";
}

/**
 * Copies a remote folder into `localDir` with one GETTREE (PROTOCOL.md §8.13, issue 12): the
 * files arrive as one stream of records, each checked and given its name on its own
 * (tree-sink.ts). With `resume` (and not `overwrite`), the files already in `localDir` are
 * named in a have list with their SHA-256, and the server sends only the others: a re-run
 * fetches only what is missing, and identical files count as done, as with per-file `-c`.
 */
export async function downloadTreeStream(
  client: BftpClient,
  remoteDir: string,
  localDir: string,
  options: BatchOptions & DownloadOptions & TreeCompareOptions = {},
): Promise<BatchResult> {
  const conn = client.connection;
  const alg = options.checksum ?? "crc32";
  fs.mkdirSync(localDir, { recursive: true });
  const haveList =
    options.compare !== undefined
      ? localOffer(localDir, { sha256: options.compare === "sha256" })
      : options.resume === true && options.overwrite !== true
        ? localHave(localDir)
        : [];
  const have = new Map(haveList.map((e) => [e.path, e]));
  const sink = new TreeSink(localDir, {
    remoteDir,
    alg,
    overwrite: options.overwrite === true,
    have,
    onWarning: options.onWarning,
    onFile: options.onFile,
  });
  const request = {
    op: "GETTREE",
    path: remoteDir,
    ...(options.checksum === undefined ? {} : { checksum: options.checksum }),
    ...(haveList.length > 0 ? { have: true } : {}),
  };
  await runTreeStream(
    conn,
    request,
    haveList.length > 0 ? jsonArrayPhase(haveList) : undefined,
    alg,
    sink,
  );
  return { files: sink.files, failed: sink.failed, skipped: sink.skipped };
}

/**
 * The regular files below `localDir` with their sizes and SHA-256 (read synchronously: this
 * is the client's own disk, and `-c` is asked for), as have-list entries. Partials, links and
 * names the protocol cannot carry are left out.
 */
function localHave(localDir: string): HaveEntry[] {
  const entries: HaveEntry[] = [];
  const walk = (dir: string, rel: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (entries.length >= MAX_HAVE) return;
      const childRel = rel === "" ? entry.name : `${rel}/${entry.name}`;
      const child = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(child, childRel);
      else if (entry.isFile() && !entry.name.endsWith(PARTIAL_SUFFIX)) {
        entries.push({ path: childRel, ...sha256OfFile(child) });
      }
    }
  };
  walk(localDir, "");
  return entries;
}

/**
 * One GETTREE (PROTOCOL.md §8.13): sends `request` and, when given, the data phase that follows
 * it (a have list or a path list), then reads the reply and the records into `sink`, each
 * record also to `onEvent` first. An error trailer is thrown; whatever the sink holds
 * unfinished is abandoned (its partial files removed) however the stream ends.
 */
export async function runTreeStream(
  conn: ClientConnection,
  request: Record<string, unknown>,
  phase: readonly Buffer[] | undefined,
  alg: ChecksumAlg,
  sink: TreeSink,
  onEvent?: (event: TreeEvent) => void,
): Promise<void> {
  await conn.exchange(
    async () => {
      await conn.send(request);
      if (phase !== undefined) {
        await writeAll(conn.socket, phase, { timeout: conn.limits.stallTimeoutMs });
      }
    },
    async () => {
      expectShape(pathReply, await conn.readReply(), "GETTREE");
      const decoder = new TreeDecoder({
        maxChunk: conn.limits.maxChunk,
        maxTrailer: conn.limits.maxReplyFrame,
        alg,
        errorCode: "BFTP_ERR_PROTOCOL",
      });
      try {
        await readTreePhase(conn.reader, decoder, {
          timeout: conn.limits.stallTimeoutMs,
          onEvent: (event) => {
            if (event.type === "trailer") {
              if (event.error !== undefined) throw remoteError(event.error);
              return;
            }
            onEvent?.(event);
            sink.handle(event);
          },
        });
      } finally {
        sink.abandon();
      }
    },
  );
}

/**
 * A list of entries as GETTREE's data phase (§7, §8.13: the have list or the path list):
 * frames of JSON arrays of at most 64 KiB and 100,000 entries, the terminator, the trailer.
 */
export function jsonArrayPhase(entries: readonly object[]): Buffer[] {
  const frames = jsonArrayFrames(entries, ARRAY_FRAME_BYTES, 100_000);
  let crc = 0;
  for (let i = 1; i < frames.length; i += 2) crc = crc32(frames[i] as Buffer, crc);
  const trailer = Buffer.from(
    JSON.stringify({
      ok: true,
      checksum: { alg: "crc32", value: crc32Hex(crc) },
    }),
  );
  frames.push(HEX_SIZE_HEADER.encode(0), HEX_SIZE_HEADER.encode(trailer.length), trailer);
  return frames;
}

/** Buffer for {@link sha256OfFile}: a have entry hashes the file in pieces, never whole. */
const HASH_PIECE = Buffer.allocUnsafe(1024 * 1024);

/**
 * A local file's size and SHA-256, read synchronously in 1 MiB pieces (the client's own disk,
 * for `-c`): the size is what was read, so the two always describe the same bytes.
 */
export function sha256OfFile(file: string): { size: number; sha256: string } {
  const hash = nodeCrypto().createHash("sha256");
  const fd = fs.openSync(file, "r");
  let size = 0;
  try {
    for (;;) {
      const n = fs.readSync(fd, HASH_PIECE, 0, HASH_PIECE.length, null);
      if (n === 0) break;
      hash.update(HASH_PIECE.subarray(0, n));
      size += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  return { size, sha256: hash.digest("hex") };
}
