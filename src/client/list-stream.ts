import { createHash } from "node:crypto";
import fs from "node:fs";
import zlib from "node:zlib";
import { BftpError } from "../errors.js";
import { remoteError } from "../protocol/replies.js";
import { TreeDecoder } from "../protocol/tree-decoder.js";
import type { ListEntry } from "../protocol/tree-records.js";
import { HEX_SIZE_HEADER } from "../wire/size-header.js";
import { writeAll } from "../wire/write-all.js";
import type { BftpClient } from "./client.js";
import type { DownloadOptions } from "./download.js";
import { expectShape, pathReply } from "./reply-shapes.js";
import type { BatchItem, BatchOptions, BatchResult } from "./tree.js";
import { TreeSink } from "./tree-sink.js";

/** Bytes of JSON per path-list frame (well under any server's `maxChunk`). */
const LIST_FRAME_BYTES = 64 * 1024;
/** Most paths one GETTREE may list (PROTOCOL.md §8.13); longer batches take several. */
export const MAX_LIST = 100_000;

/** Whether the server takes GETTREE's list form: it announces `"tree-list"` in HELLO. */
export function speaksTreeList(client: BftpClient): boolean {
  const capabilities = client.server["capabilities"];
  return Array.isArray(capabilities) && capabilities.includes("tree-list");
}

/**
 * Downloads many paths with GETTREE's list form (PROTOCOL.md §8.13, issue 12 item 2): one
 * stream for the whole batch, each record's path the index of its item, so each file goes to
 * its own `local` target, checked and given its name on its own (tree-sink.ts). With `resume`
 * (and not `overwrite`), a target that exists is sent with its size and SHA-256 and the
 * server sends it only if it differs. An item the stream never mentions is a failure.
 */
export async function downloadListStream(
  client: BftpClient,
  items: readonly BatchItem[],
  options: BatchOptions & DownloadOptions = {},
): Promise<BatchResult> {
  if (items.length > MAX_LIST) {
    const parts: BatchResult[] = [];
    for (let at = 0; at < items.length; at += MAX_LIST)
      parts.push(await downloadListStream(client, items.slice(at, at + MAX_LIST), options));
    return {
      files: parts.flatMap((p) => p.files),
      failed: parts.flatMap((p) => p.failed),
      skipped: parts.reduce((n, p) => n + p.skipped, 0),
    };
  }
  const conn = client.connection;
  const alg = options.checksum ?? "crc32";
  const resume = options.resume === true && options.overwrite !== true;
  const entries = items.map((item) => listEntry(item, resume));
  const have = new Map<string, { size: number; sha256?: string | undefined }>();
  entries.forEach((e, i) => {
    if (e.size !== undefined) have.set(String(i), { size: e.size, sha256: e.sha256 });
  });
  const sink = new TreeSink("", {
    remoteDir: "/",
    alg,
    overwrite: options.overwrite === true,
    have,
    onWarning: options.onWarning,
    onFile: options.onFile,
    targets: items,
  });
  const seen = new Uint8Array(items.length);
  const request = {
    op: "GETTREE",
    path: "/",
    list: true,
    ...(options.checksum === undefined ? {} : { checksum: options.checksum }),
  };
  await conn.exchange(
    async () => {
      await conn.send(request);
      await writeAll(conn.socket, listPhase(entries), { timeout: conn.limits.stallTimeoutMs });
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
              continue;
            }
            if ("path" in event && typeof event.path === "string") {
              const slash = event.path.indexOf("/");
              const i = Number(slash < 0 ? event.path : event.path.slice(0, slash));
              if (Number.isInteger(i) && i >= 0 && i < seen.length) seen[i] = 1;
            }
            sink.handle(event);
          }
        }
      } finally {
        sink.abandon();
      }
    },
  );
  const failed = [...sink.failed];
  items.forEach((item, i) => {
    if (seen[i] === 0)
      failed.push({
        path: item.remote,
        error: new BftpError(
          "BFTP_ERR_NOT_FOUND",
          `Cannot download ${JSON.stringify(item.remote)}: the server did not send it`,
        ),
      });
  });
  return { files: sink.files, failed, skipped: sink.skipped };
}

/** An item as a list entry: with its local copy's size and SHA-256 when resuming. */
function listEntry(item: BatchItem, resume: boolean): ListEntry {
  if (!resume) return { path: item.remote };
  let bytes: Buffer;
  try {
    const stats = fs.lstatSync(item.local, { throwIfNoEntry: false });
    if (stats === undefined || !stats.isFile()) return { path: item.remote };
    bytes = fs.readFileSync(item.local);
  } catch {
    return { path: item.remote };
  }
  return {
    path: item.remote,
    size: bytes.length,
    sha256: createHash("sha256").update(bytes).digest("hex"),
  };
}

/** The path list as a data phase (§7): frames of JSON arrays, the terminator, the trailer. */
function listPhase(entries: readonly ListEntry[]): Buffer[] {
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
    const size = Buffer.byteLength(json) + 1;
    if (bytes + size > LIST_FRAME_BYTES) flush();
    batch.push(json);
    bytes += size;
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
