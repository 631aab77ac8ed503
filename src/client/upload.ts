import fs from "node:fs";
import fsp from "node:fs/promises";
import { BftpError, isBftpError } from "../errors.js";
import { FileSender } from "../protocol/file-sender.js";
import { sendDataPhase, type SentDataPhase } from "../protocol/send-data-phase.js";
import type { ChecksumAlg } from "../protocol/version.js";
import type { ClientConnection } from "./connection.js";
import { sha256Of, type TransferResult } from "./download.js";
import { inStep } from "./in-step.js";
import { ProgressTracker, type ProgressHandler } from "./progress.js";
import { expectShape, putReply, resumeReply } from "./reply-shapes.js";

/** Largest read from a local file at once, and so the largest frame sent. */
const READ_CHUNK = 1024 * 1024;

/** Options for an upload. */
export interface UploadOptions {
  /** Replace an existing remote file (default: refuse). */
  readonly overwrite?: boolean;
  /** Ask the server to keep the partial upload if the connection is lost (default true for files). */
  readonly resumable?: boolean;
  /** Continue an interrupted resumable upload of the same file. */
  readonly resume?: boolean;
  /** Transfer checksum (default crc32). */
  readonly checksum?: ChecksumAlg;
  /** Set the remote modification time (ms since the epoch). */
  readonly mtime?: number;
  /**
   * For a file: give the remote file the local one's modification time (default true, unless
   * `mtime` is given). False leaves the server to stamp it when committed, as scp without -p.
   */
  readonly preserveTime?: boolean;
  /** Size of a stream's data, when known (checked by the server). */
  readonly size?: number;
  readonly onProgress?: ProgressHandler;
}

/**
 * PUT from a Readable (any size; the server commits only if every byte and the checksum
 * arrive). The request and its data phase go out together, so uploads pipeline.
 */
export function uploadFromStream(
  conn: ClientConnection,
  source: AsyncIterable<Uint8Array>,
  remote: string,
  options: UploadOptions & { offset?: number; maxChunk: number },
): Promise<TransferResult> {
  const alg = options.checksum ?? "crc32";
  return uploadWith(conn, remote, options, (tracker) =>
    sendDataPhase(conn.socket, counted(source, tracker), {
      alg,
      maxChunk: options.maxChunk,
      timeout: conn.limits.stallTimeoutMs,
    }),
  );
}

/** The PUT exchange, its data phase sent by `send`. */
function uploadWith(
  conn: ClientConnection,
  remote: string,
  options: UploadOptions & { offset?: number },
  send: (tracker: ProgressTracker) => Promise<SentDataPhase>,
): Promise<TransferResult> {
  const offset = options.offset ?? 0;
  const tracker = new ProgressTracker(options.onProgress, remote, options.size, offset);
  let localFailure: BftpError | undefined;
  const request = {
    op: "PUT",
    path: remote,
    size: options.size,
    overwrite: options.overwrite,
    offset: offset === 0 ? undefined : offset,
    resumable: options.resumable,
    checksum: options.checksum,
    mtime: options.mtime,
  };
  return conn
    .exchange(
      async () => {
        await conn.send(request);
        localFailure = (await send(tracker)).failure;
      },
      async () => expectShape(putReply, await conn.readReply(), "PUT"),
    )
    .then(
      (reply) => {
        tracker.finish();
        return {
          path: remote,
          bytes: reply.size - offset,
          size: reply.size,
          offset,
          checksum: reply.checksum,
        };
      },
      (err: unknown) => {
        // Our own read failed mid-upload: the server's TRANSFER_ABORTED is the echo of it.
        if (localFailure !== undefined && isBftpError(err) && err.remote) {
          throw inStep(
            localFailure.cause ?? localFailure,
            `Cannot read the data for ${JSON.stringify(remote)}`,
          );
        }
        throw err;
      },
    );
}

/** PUT of a local file; with `resume`, continues the partial upload the server kept. */
export async function uploadFile(
  conn: ClientConnection,
  local: string,
  remote: string,
  options: UploadOptions & { maxChunk: number },
): Promise<TransferResult> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(local, "r");
  } catch (err) {
    throw inStep(err, `Cannot upload ${JSON.stringify(local)}`);
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile())
      throw inStep(
        Object.assign(new Error("dir"), { code: "EISDIR" }),
        `Cannot upload ${JSON.stringify(local)}`,
      );
    const offset =
      options.resume === true ? await resumeOffset(conn, local, remote, stats.size) : 0;
    const fd = handle.fd;
    const alg = options.checksum ?? "crc32";
    // Straight from the file to the socket (FileSender, issue 12): no stream, no promise per chunk.
    return await uploadWith(
      conn,
      remote,
      {
        ...options,
        resumable: options.resumable ?? true,
        size: stats.size,
        offset,
        ...(options.mtime === undefined && options.preserveTime === false
          ? {}
          : { mtime: options.mtime ?? Math.trunc(stats.mtimeMs) }),
      },
      (tracker) =>
        new FileSender(conn.socket, {
          alg,
          maxChunk: options.maxChunk,
          timeout: conn.limits.stallTimeoutMs,
          offset,
          length: stats.size - offset,
          // Sized to the file: a 4 KiB file of `put -r` given 1 MiB buffers made garbage that
          // took a quarter of the client's time in collections (issue 12).
          bufferSize: () =>
            Math.min(READ_CHUNK, options.maxChunk, Math.max(16 * 1024, stats.size - offset)),
          readAt: (buffer, length, position, done) => {
            fs.read(fd, buffer, 0, length, position, done);
          },
          readError: (err) =>
            new BftpError("BFTP_ERR_LOCAL_FILE", `Cannot read ${JSON.stringify(local)}`, {
              cause: err,
            }),
          endedEarly: () =>
            new BftpError(
              "BFTP_ERR_LOCAL_FILE",
              `Cannot read ${JSON.stringify(local)}: it is shorter than when the upload began`,
              { cause: Object.assign(new Error("file shrank"), { code: "ESHRANK" }) },
            ),
          onSent: (bytes) => {
            tracker.add(bytes);
          },
        }).run(),
    );
  } finally {
    await handle.close();
  }
}

/** The offset of the server's partial upload if it matches our file's first bytes, else 0. */
async function resumeOffset(
  conn: ClientConnection,
  local: string,
  remote: string,
  size: number,
): Promise<number> {
  let kept;
  try {
    kept = expectShape(resumeReply, await conn.request({ op: "RESUME", path: remote }), "RESUME");
  } catch (err) {
    if (isBftpError(err, "BFTP_ERR_NOT_FOUND")) return 0;
    throw err;
  }
  if (kept.offset > size) return 0;
  return (await sha256Of(local, kept.offset)) === kept.sha256 ? kept.offset : 0;
}

async function* counted(
  source: AsyncIterable<Uint8Array>,
  tracker: ProgressTracker,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    tracker.add(chunk.length);
    yield chunk;
  }
}
