import fs from "node:fs";
import fsp from "node:fs/promises";
import { BftpError } from "../errors.js";
import { DataPhaseReader, type DataPhaseResult } from "../protocol/data-phase-reader.js";
import type { ChecksumAlg } from "../protocol/version.js";
import type { ClientConnection } from "./connection.js";
import type { DownloadOptions, TransferResult } from "./download.js";
import { inStep } from "./in-step.js";
import { ProgressTracker } from "./progress.js";
import { expectShape, getReply, type GetReply } from "./reply-shapes.js";

/** The range, checksum and version a GET asks for. */
export interface GetRequestOptions {
  readonly offset?: number | undefined;
  readonly length?: number | undefined;
  readonly checksum?: ChecksumAlg | undefined;
  readonly ifVersion?: string | undefined;
}

/**
 * Sends a GET for `remote` on `conn` and, once the server has accepted it, hands its reply and
 * a reader of its data phase (with the connection's limits) to `receive`, whose result the
 * exchange resolves with. A refusal rejects before `receive` runs: every download's opening.
 */
export function exchangeGet(
  conn: ClientConnection,
  remote: string,
  options: GetRequestOptions,
  receive: (info: GetReply, phase: DataPhaseReader, alg: ChecksumAlg) => Promise<TransferResult>,
): Promise<TransferResult> {
  const alg = options.checksum ?? "crc32";
  const request = {
    op: "GET",
    path: remote,
    offset: options.offset,
    length: options.length,
    checksum: options.checksum,
    ifVersion: options.ifVersion,
  };
  return conn.exchange(
    () => conn.send(request),
    async () => {
      const info = expectShape(getReply, await conn.readReply(), "GET");
      const phase = new DataPhaseReader(conn.reader, alg, {
        maxChunk: conn.limits.maxChunk,
        maxTrailer: conn.limits.maxReplyFrame,
        timeout: conn.limits.stallTimeoutMs,
      });
      return receive(info, phase, alg);
    },
  );
}

/** Bytes received and not yet written to the file before the socket is paused. */
const BACKLOG = 8 * 1024 * 1024;

/**
 * GET into the regular file `file` from byte `offset` (a download's partial): the fast path
 * of `downloadFile` (issue 12). The file is opened (created and truncated when `offset` is 0)
 * only once the server has accepted the GET, then `onCreate` is told; the data phase goes
 * straight from the socket to it (`DataPhaseReader.receiveFile`: frames parsed as bytes
 * arrive, gather writes from the received slabs, no copy, no promise per chunk), and is
 * checked against the sender's checksum and the announced length before it resolves. If the
 * file write fails, the rest of the phase is read and dropped so the connection stays usable.
 * With `syncWrites` the writes are synchronous calls on this thread (no thread-pool hand-off
 * per write, as the ceiling's receiver does): on two cores a GET then keeps one thread busy
 * instead of handing every batch to another. Errors are those of `downloadToStream`.
 */
export function downloadToFile(
  conn: ClientConnection,
  remote: string,
  file: string,
  options: DownloadOptions & {
    readonly offset: number;
    readonly onCreate: () => void;
    /** The local file as the user named it, for messages (`file` is its partial). */
    readonly local: string;
  },
): Promise<TransferResult> {
  const { offset } = options;
  const request = { offset, checksum: options.checksum, ifVersion: options.ifVersion };
  return exchangeGet(conn, remote, request, async (info, phase, alg) => {
    let handle: fsp.FileHandle | undefined;
    let opened: unknown;
    try {
      // Made only once the server said yes: a refused GET leaves no empty local file behind.
      options.onCreate();
      handle = await fsp.open(file, offset > 0 ? "r+" : "w");
    } catch (err) {
      opened = err;
    }
    const tracker = new ProgressTracker(options.onProgress, remote, info.size, info.offset);
    let writeError: unknown;
    try {
      const fd = handle?.fd;
      writeError = await phase.receiveFile({
        position: offset,
        backlog: () => BACKLOG,
        onData: (bytes) => {
          tracker.add(bytes);
        },
        writeAt:
          fd === undefined
            ? (_buffers, _position, done) => {
                done(opened, 0); // the file could not be opened: the phase is dropped
              }
            : options.syncWrites === true
              ? (buffers, position, done) => {
                  let written: number;
                  try {
                    written = fs.writevSync(fd, buffers, position);
                  } catch (err) {
                    done(err, 0);
                    return;
                  }
                  done(null, written);
                }
              : (buffers, position, done) => {
                  fs.writev(fd, buffers, position, done);
                },
      });
    } finally {
      await handle?.close().catch((err: unknown) => {
        writeError ??= err;
      });
    }
    writeError ??= opened; // an empty phase never tried to write
    if (writeError !== undefined) {
      throw inStep(writeError, `Cannot write ${JSON.stringify(options.local)}`);
    }
    return verifiedDownload(remote, { info, result: phase.result, alg, tracker });
  });
}

/** What {@link verifiedDownload} checks: the GET's reply and what its data phase carried. */
export interface DownloadOutcome {
  readonly info: {
    readonly size: number;
    readonly offset: number;
    readonly length: number;
    readonly mtime: number;
  };
  readonly result: DataPhaseResult;
  readonly alg: ChecksumAlg;
  readonly tracker: ProgressTracker;
}

/**
 * The result of a download whose data phase has ended, once it is verified: the sender's
 * checksum matched (else its failure) and exactly the announced `length` arrived (else
 * `BFTP_ERR_SIZE_MISMATCH`, PROTOCOL.md §8.7). Both leave the connection in step.
 */
export function verifiedDownload(remote: string, outcome: DownloadOutcome): TransferResult {
  const { info, result, alg, tracker } = outcome;
  const { failure, bytes, checksum } = result;
  if (failure !== undefined) throw inStep(failure, "Cannot download");
  if (bytes !== info.length) {
    throw inStep(
      new BftpError(
        "BFTP_ERR_SIZE_MISMATCH",
        `Cannot trust the download of ${JSON.stringify(remote)}: ${bytes} bytes arrived, ${info.length} were announced`,
      ),
      "Cannot download",
    );
  }
  tracker.finish();
  return {
    path: remote,
    bytes,
    size: info.size,
    offset: info.offset,
    checksum: { alg, value: checksum },
    mtime: info.mtime,
  };
}
