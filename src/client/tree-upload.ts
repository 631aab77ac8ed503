import path from "node:path";
import { BftpError } from "../errors.js";
import { remoteError, type WireError } from "../protocol/replies.js";
import { object, optional, u64 } from "../protocol/shape.js";
import { TreeDecoder } from "../protocol/tree-decoder.js";
import { TreeEncoder } from "../protocol/tree-encoder.js";
import { readTreePhase } from "../protocol/tree-phase-reader.js";
import { writeAll } from "../wire/write-all.js";
import { writeFlushed } from "../wire/write-flushed.js";
import type { BftpClient } from "./client.js";
import type { TransferResult } from "./download.js";
import { expectShape, pathReply } from "./reply-shapes.js";
import type { BatchOptions, BatchResult } from "./tree.js";
import { localOffer, readHeld } from "./tree-offer.js";
import { TreeSource, type SentFile } from "./tree-source.js";
import { jsonArrayPhase, type TreeCompareOptions } from "./tree-stream.js";
import type { UploadOptions } from "./upload.js";

/** Bytes of records built and written at once. */
const BATCH_BYTES = 1024 * 1024;
/** Files sent and not yet answered before the client waits for results (a bound). */
const MAX_UNANSWERED = 16_384;

const finalReply = object({ files: u64, committed: u64, failed: u64, held: optional(u64) });

/**
 * Copies a local folder into the existing remote folder `remoteDir` with one PUTTREE
 * (PROTOCOL.md §8.14, issue 12): the tree goes out as one records phase (tree-source.ts)
 * while the server's results come back, one per file, each file committed on its own by the
 * server once its checksum matched. Reported as `uploadTree`'s per-file path reports: the
 * files committed, those that failed with the server's code, the entries skipped here.
 */
export async function uploadTreeStream(
  client: BftpClient,
  localDir: string,
  remoteDir: string,
  options: BatchOptions & UploadOptions & TreeCompareOptions = {},
): Promise<BatchResult> {
  const conn = client.connection;
  const alg = options.checksum ?? "crc32";
  // The server's frame limit (HELLO), which the records must respect; ours is for reading.
  const maxChunk = Math.max(2, Math.min(client.server.limits.maxChunk, 1 << 20));
  // With -c, the files here are offered first, and those the server holds are not sent
  // (§8.14, "puttree-offer"): a re-run sends only what is missing.
  const offer = !client.offers("puttree-offer")
    ? undefined
    : options.compare !== undefined
      ? localOffer(localDir, { sha256: options.compare === "sha256" })
      : options.resume === true
        ? localOffer(localDir, { sha256: alg === "sha256" })
        : undefined;
  const held = new Set<string>();
  const source = new TreeSource(localDir, {
    alg,
    maxChunk,
    onWarning: options.onWarning,
    held,
  });
  const unanswered: SentFile[] = [];
  let answeredAt = 0;
  const files: TransferResult[] = [];
  const failed: { path: string; error: BftpError }[] = [];
  let wake: (() => void) | undefined;
  let receiving = true;
  const replied = deferred();
  // Every path sent passed isRecordPath (no empty, "." or ".." name): joining it is appending.
  const remotePrefix = path.posix.join(remoteDir, "x").slice(0, -1);
  const remoteOf = (rel: string): string => `${remotePrefix}${rel}`;
  const request = {
    op: "PUTTREE",
    path: remoteDir,
    ...(options.overwrite === true ? { overwrite: true } : {}),
    ...(options.checksum === undefined ? {} : { checksum: options.checksum }),
    ...(offer === undefined ? {} : { offer: true }),
  };
  const wait = { timeout: conn.limits.stallTimeoutMs };
  await conn.exchange(
    async () => {
      await conn.send(request);
      if (offer !== undefined) await writeAll(conn.socket, jsonArrayPhase(offer), wait);
      if (!(await replied.promise)) return; // refused: no records follow (§8.14)
      const out = new TreeEncoder(maxChunk);
      // One batch in the kernel while the next is built; once a write has completed, its
      // memory builds the batch after (two arenas in turn, no fresh megabyte per batch).
      let previous: { flushed: Promise<void>; batch: Buffer } | undefined;
      while (!source.done) {
        for (const file of source.fill(out, BATCH_BYTES)) unanswered.push(file);
        const batch = out.take();
        const flushed = writeFlushed(conn.socket, [batch], wait);
        flushed.catch(() => undefined); // awaited below, or by the next round
        if (previous !== undefined) {
          await previous.flushed;
          out.giveBack(previous.batch);
        }
        previous = { flushed, batch };
        // A bound on what is sent and not answered: the server sends its results whenever
        // it has no more records to hand (§8.14), so waiting here always ends.
        while (receiving && unanswered.length - answeredAt >= MAX_UNANSWERED) {
          await new Promise<void>((resolve) => (wake = resolve));
        }
        if (!receiving) return; // the results failed: the exchange reports why
      }
      if (previous !== undefined) await previous.flushed;
      await writeAll(conn.socket, out.finish(), wait);
    },
    () =>
      receive().finally(() => {
        receiving = false;
        wake?.();
      }),
  );
  return { files, failed, skipped: source.skipped };

  async function receive(): Promise<void> {
    try {
      expectShape(pathReply, await conn.readReply(), "PUTTREE");
      if (offer !== undefined) heldFiles(await readOffered());
    } catch (err) {
      replied.resolve(false);
      throw err;
    }
    replied.resolve(true);
    const decoder = new TreeDecoder({
      maxChunk: conn.limits.maxChunk,
      maxTrailer: conn.limits.maxReplyFrame,
      alg,
      errorCode: "BFTP_ERR_PROTOCOL",
      results: true,
    });
    let ended: WireError | undefined;
    await readTreePhase(conn.reader, decoder, {
      timeout: conn.limits.stallTimeoutMs,
      onEvent: (event) => {
        if (event.type === "trailer") {
          ended = event.error;
          return;
        }
        if (event.type !== "result") return; // the decoder allows nothing else here
        const sent = unanswered[answeredAt];
        if (sent?.rel !== event.path) throw outOfStep();
        answeredAt++;
        if (answeredAt === unanswered.length || answeredAt > 4096) {
          unanswered.splice(0, answeredAt); // forget what is answered, in blocks
          answeredAt = 0;
        }
        wake?.();
        wake = undefined;
        const remote = remoteOf(sent.rel);
        if (sent.error !== undefined) failed.push({ path: remote, error: sent.error });
        else if (event.error === undefined) {
          const result = {
            path: remote,
            bytes: sent.size,
            size: sent.size,
            offset: 0,
            checksum: { alg, value: sent.checksum },
          };
          files.push(result);
          options.onFile?.(result);
        } else failed.push({ path: remote, error: remoteError(event.error) });
      },
    });
    // A server that ended the results early sends its final reply all the same (a fatal
    // one says close): read it, so the stream stays in step or ends here.
    if (ended !== undefined) {
      await conn.readReply();
      throw remoteError(ended);
    }
    const counts = expectShape(finalReply, await conn.readReply(), "PUTTREE");
    if (
      counts.files !== files.length - held.size + failed.length ||
      answeredAt < unanswered.length ||
      (offer !== undefined && counts.held !== held.size)
    )
      throw outOfStep();
  }

  /** The held phase, checked against the offer. */
  function readOffered(): Promise<Set<string>> {
    return readHeld(conn.reader, new Set(offer?.map((e) => e.path)), {
      maxChunk: conn.limits.maxChunk,
      maxTrailer: conn.limits.maxReplyFrame,
      timeout: conn.limits.stallTimeoutMs,
    });
  }

  /**
   * The files the server holds: left out of the records, and reported as `get -r -c`
   * reports the files it already has (nothing moved, the offset is the size).
   */
  function heldFiles(paths: ReadonlySet<string>): void {
    const sizes = new Map(offer?.map((e) => [e.path, e]));
    for (const rel of paths) {
      held.add(rel);
      const entry = sizes.get(rel);
      const size = entry?.size ?? 0;
      const result: TransferResult = {
        path: remoteOf(rel),
        bytes: 0,
        size,
        offset: size,
        checksum: { alg: "sha256", value: entry?.sha256 ?? "" },
        held: true,
      };
      files.push(result);
      options.onFile?.(result);
    }
  }
}

function outOfStep(): BftpError {
  return new BftpError(
    "BFTP_ERR_PROTOCOL",
    "Cannot follow the server's results: they do not match the files sent",
  );
}

function deferred(): { promise: Promise<boolean>; resolve: (value: boolean) => void } {
  let resolve: (value: boolean) => void = () => undefined;
  const promise = new Promise<boolean>((r) => (resolve = r));
  return { promise, resolve };
}
