import fs from "node:fs";
import { BftpError } from "../errors.js";
import type { TreeEvent } from "../protocol/tree-decoder.js";
import type { ListEntry } from "../protocol/tree-records.js";
import type { BftpClient } from "./client.js";
import type { DownloadOptions } from "./download.js";
import type { BatchItem, BatchOptions, BatchResult } from "./tree.js";
import { TreeSink } from "./tree-sink.js";
import { jsonArrayPhase, runTreeStream, sha256OfFile } from "./tree-stream.js";

/** Most paths one GETTREE may list (PROTOCOL.md §8.13); longer batches take several. */
export const MAX_LIST = 100_000;

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
    keepTimes: options.preserveTime === true,
  });
  const seen = new Uint8Array(items.length);
  const request = {
    op: "GETTREE",
    path: "/",
    list: true,
    ...(options.checksum === undefined ? {} : { checksum: options.checksum }),
  };
  const markSeen = (event: TreeEvent): void => {
    if ("path" in event && typeof event.path === "string") {
      const slash = event.path.indexOf("/");
      const i = Number(slash < 0 ? event.path : event.path.slice(0, slash));
      if (Number.isInteger(i) && i >= 0 && i < seen.length) seen[i] = 1;
    }
  };
  await runTreeStream(conn, request, jsonArrayPhase(entries), alg, sink, markSeen);
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
  try {
    const stats = fs.lstatSync(item.local, { throwIfNoEntry: false });
    if (stats === undefined || !stats.isFile()) return { path: item.remote };
    return { path: item.remote, ...sha256OfFile(item.local) };
  } catch {
    return { path: item.remote };
  }
}
