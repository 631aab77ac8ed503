import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { remoteError } from "../protocol/replies.js";
import { TreeDecoder } from "../protocol/tree-decoder.js";
import type { HaveEntry } from "../protocol/tree-records.js";
import { HEX_SIZE_HEADER } from "../wire/size-header.js";
import { writeAll } from "../wire/write-all.js";
import type { BftpClient } from "./client.js";
import type { DownloadOptions } from "./download.js";
import { expectShape, pathReply } from "./reply-shapes.js";
import type { BatchOptions, BatchResult } from "./tree.js";
import { TreeSink } from "./tree-sink.js";
import { PARTIAL_SUFFIX } from "./partial-name.js";

/** Bytes of JSON per have-list frame (well under any server's `maxChunk`). */
const HAVE_FRAME_BYTES = 64 * 1024;
/** Most have-list entries sent (PROTOCOL.md §8.13's limit). */
const MAX_HAVE = 1_000_000;

/** Whether the server speaks GETTREE (PROTOCOL.md §8.13): it announces `"tree"` in HELLO. */
export function speaksTree(client: BftpClient): boolean {
  const capabilities = client.server["capabilities"];
  return Array.isArray(capabilities) && capabilities.includes("tree");
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
  options: BatchOptions & DownloadOptions = {},
): Promise<BatchResult> {
  const conn = client.connection;
  const alg = options.checksum ?? "crc32";
  fs.mkdirSync(localDir, { recursive: true });
  const haveList = options.resume === true && options.overwrite !== true ? localHave(localDir) : [];
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
  await conn.exchange(
    async () => {
      await conn.send(request);
      if (haveList.length > 0) {
        await writeAll(conn.socket, havePhase(haveList), { timeout: conn.limits.stallTimeoutMs });
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
      const wait = { timeout: conn.limits.stallTimeoutMs };
      try {
        while (!decoder.done) {
          const chunk = await conn.reader.readSome(decoder.want(), wait);
          for (const event of decoder.push(chunk)) {
            if (event.type === "trailer") {
              if (event.error !== undefined) throw remoteError(event.error);
            } else sink.handle(event);
          }
        }
      } finally {
        sink.abandon();
      }
    },
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
        const bytes = fs.readFileSync(child);
        entries.push({
          path: childRel,
          size: bytes.length,
          sha256: createHash("sha256").update(bytes).digest("hex"),
        });
      }
    }
  };
  walk(localDir, "");
  return entries;
}

/** The have list as a data phase (§7): frames of JSON arrays, the terminator, the trailer. */
function havePhase(entries: readonly HaveEntry[]): Buffer[] {
  const frames: Buffer[] = [];
  let crc = 0;
  let batch: string[] = [];
  let bytes = 2;
  const flush = (): void => {
    if (batch.length === 0) return;
    const payload = Buffer.from(`[${batch.join(",")}]`);
    crc = zlib.crc32(payload, crc);
    frames.push(HEX_SIZE_HEADER.encode(payload.length), payload);
    batch = [];
    bytes = 2;
  };
  for (const entry of entries) {
    const json = JSON.stringify(entry);
    if (bytes + json.length + 1 > HAVE_FRAME_BYTES || batch.length >= 100_000) flush();
    batch.push(json);
    bytes += Buffer.byteLength(json) + 1;
  }
  flush();
  const trailer = Buffer.from(
    JSON.stringify({
      ok: true,
      checksum: { alg: "crc32", value: crc.toString(16).padStart(8, "0") },
    }),
  );
  frames.push(HEX_SIZE_HEADER.encode(0), HEX_SIZE_HEADER.encode(trailer.length), trailer);
  return frames;
}
