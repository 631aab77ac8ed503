import { BftpError } from "../errors.js";
import type { ChunkQueue } from "../wire/chunk-queue.js";
import type { Consumer, StreamReader } from "../wire/stream-reader.js";
import type { TreeDecoder, TreeEvent } from "./tree-decoder.js";

/** Options for {@link readTreePhase}. */
export interface TreePhaseOptions {
  /** The longest wait for the next byte, in milliseconds: past it, `BFTP_ERR_TIMEOUT`. */
  readonly timeout: number;
  /**
   * Each event, the trailer's included, in stream order, synchronously as its bytes arrive.
   * What it throws ends the read with that error (the bytes after the phase stay queued
   * only when the decoder had reached the trailer).
   */
  readonly onEvent: (event: TreeEvent) => void;
}

/**
 * Reads one tree phase (PROTOCOL.md §7.4) from `reader` through `decoder` to its trailer,
 * handing every chunk the socket delivered to the decoder whole, as it arrives: no promise
 * per record or per piece of one (issue 12: the `readSome` loop this replaces awaited about
 * nine reads per small file). The bytes after the trailer stay queued for the next read.
 * End of stream before the trailer is `BFTP_ERR_PEER_CLOSED`, as `readSome` reports it.
 *
 * @example
 * await readTreePhase(conn.reader, decoder, { timeout: 30_000, onEvent: (e) => sink.handle(e) });
 */
export async function readTreePhase(
  reader: StreamReader,
  decoder: TreeDecoder,
  options: TreePhaseOptions,
): Promise<void> {
  const { timeout } = options;
  if (!(Number.isFinite(timeout) && timeout >= 0))
    throw new BftpError("BFTP_ERR_INVALID_ARGUMENT", `Cannot use timeout "${timeout}"`);
  const consumer = new TreePhaseConsumer(decoder, options.onEvent);
  const stall = setInterval(
    () => {
      if (consumer.stalledFor(timeout)) reader.wake(); // take() throws it
    },
    Math.max(5, Math.min(timeout / 4, 1000)),
  );
  try {
    await reader.consume(consumer);
  } finally {
    clearInterval(stall);
  }
}

/** The consumer behind {@link readTreePhase}: the decoder and the deadline, state in fields. */
class TreePhaseConsumer implements Consumer {
  readonly #decoder: TreeDecoder;
  readonly #onEvent: (event: TreeEvent) => void;
  #lastProgress = performance.now();
  #stalled: BftpError | undefined;

  constructor(decoder: TreeDecoder, onEvent: (event: TreeEvent) => void) {
    this.#decoder = decoder;
    this.#onEvent = onEvent;
  }

  /** True (once) when no byte has come for `timeout` ms: the next `take` throws. */
  stalledFor(timeout: number): boolean {
    if (this.#stalled !== undefined || performance.now() - this.#lastProgress < timeout)
      return false;
    this.#stalled = new BftpError(
      "BFTP_ERR_TIMEOUT",
      `Cannot read the tree: no progress within ${timeout} ms`,
      { details: { timeout } },
    );
    return true;
  }

  take(queue: ChunkQueue, ended: boolean): boolean {
    if (this.#stalled !== undefined) throw this.#stalled;
    const decoder = this.#decoder;
    while (!decoder.done) {
      if (queue.length === 0) {
        if (ended)
          throw new BftpError("BFTP_ERR_PEER_CLOSED", "Cannot read: the peer closed the stream");
        return false;
      }
      const chunk = queue.first();
      const events = decoder.push(chunk);
      // `rest` stays empty until the trailer; then it is what belongs to the next reply,
      // which stays queued.
      queue.skip(chunk.length - decoder.rest.length);
      this.#lastProgress = performance.now();
      // An index, not for-of: the iterator protocol would add a hundred bytes to this loop,
      // and V8 optimizes a function later the longer it is (docs/performance.md, December 6).
      for (let i = 0; i < events.length; i++) this.#onEvent(events[i] as TreeEvent);
    }
    return true;
  }

  /** The events go to a synchronous handler: it can always take more. */
  hungry(): boolean {
    return true;
  }
}
