import type { ClientConnection } from "./connection.js";
import type { DownloadOptions, TransferResult } from "./download.js";
import { exchangeGet, verifiedDownload } from "./download-to-file.js";
import { inStep } from "./in-step.js";
import { ProgressTracker } from "./progress.js";

/**
 * Takes each piece of a download as it arrives. `chunk` is a view of the connection's
 * receive memory, valid only during the call: the next bytes are read into the same memory,
 * so copy what must outlive it. Throwing stops the delivery (the rest of the data is read and
 * dropped, the connection stays usable) and the download rejects with that error's code
 * (`BFTP_ERR_LOCAL_FILE` for an error that has none).
 */
export type ChunkHandler = (chunk: Buffer) => void;

/** Options for {@link downloadToChunks}: the range, checksum, version and progress of a GET. */
export type ChunkDownloadOptions = Pick<
  DownloadOptions,
  "offset" | "length" | "checksum" | "ifVersion" | "onProgress"
>;

/**
 * GET whose bytes go to a function, piece by piece, with no stream and no allocation per
 * piece (issue 12): the data phase is parsed as bytes arrive (`DataPhaseReader.receiveFile`,
 * the file download's path) and each piece is handed to `onChunk` synchronously, so once it
 * returns nothing holds the socket's receive memory and the next read reuses it
 * (`slabOnread`), as a program reading a socket into one buffer does. For consumers that
 * finish with each piece at once: a hash, a parser, a check, a copy into memory of their own.
 * A Writable (which may keep its chunks) goes through `downloadToStream` instead.
 *
 * As with a stream, the pieces are delivered before the end-to-end check: the download is
 * verified only when this resolves (the sender's checksum and the announced length); a
 * rejection means what was delivered cannot be trusted.
 *
 * @example
 * const hash = crypto.createHash("sha256");
 * await downloadToChunks(conn, "/big.iso", (chunk) => hash.update(chunk));
 */
export function downloadToChunks(
  conn: ClientConnection,
  remote: string,
  onChunk: ChunkHandler,
  options: ChunkDownloadOptions = {},
): Promise<TransferResult> {
  return exchangeGet(conn, remote, options, async (info, phase, alg) => {
    const tracker = new ProgressTracker(options.onProgress, remote, info.size, info.offset);
    const handlerError = await phase.receiveFile({
      position: info.offset,
      // Nothing waits to be handed on: each piece goes to `onChunk` as it is parsed.
      backlog: () => 1,
      onData: (bytes) => {
        tracker.add(bytes);
      },
      writeAt: (pieces, _position, done) => {
        let bytes = 0;
        try {
          for (const piece of pieces) {
            onChunk(piece);
            bytes += piece.length;
          }
        } catch (err) {
          done(err, 0); // the rest of the phase is read and dropped
          return;
        }
        done(null, bytes);
      },
    });
    if (handlerError !== undefined) {
      throw inStep(handlerError, `Cannot consume the download of ${JSON.stringify(remote)}`);
    }
    return verifiedDownload(remote, { info, result: phase.result, alg, tracker });
  });
}
