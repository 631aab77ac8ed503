import type { OnReadOpts } from "node:net";

/** Options for {@link slabOnread}. */
export interface SlabOnreadOptions {
  /** Size of each slab the socket reads into (default 1 MiB). */
  readonly slabSize?: number;
  /** Least room a read is offered; a slab with less left is replaced (default 128 KiB). */
  readonly minFree?: number;
}

/**
 * The `onread` option of `net.connect` / `new net.Socket` that reads a plain socket into
 * large slabs instead of a fresh 64 KiB Buffer per read, handing each read to `deliver` as a
 * view (usually `StreamReader.feed`). A slab is written once, front to back, and never
 * reused, so a view stays valid for as long as anyone holds it; a slab is garbage once no
 * view of it is left. Fewer, larger reads and one allocation per slab instead of per read:
 * a download costs the receiver about a third less CPU (docs/benchmarks.md).
 *
 * Pausing and resuming the socket works as with 'data' events; 'end', 'error' and 'close'
 * are emitted as usual. TLS sockets have no `onread`: they keep their 'data' events.
 *
 * @example
 * const late: { reader?: StreamReader } = {};
 * const onread = slabOnread((chunk) => (late.reader as StreamReader).feed(chunk));
 * const socket = net.connect({ host, port, onread });
 * late.reader = new StreamReader(socket); // before any I/O: bytes arrive on a later tick
 */
export function slabOnread(
  deliver: (chunk: Buffer) => void,
  options: SlabOnreadOptions = {},
): OnReadOpts {
  const slabSize = options.slabSize ?? 1024 * 1024;
  const minFree = Math.min(options.minFree ?? 128 * 1024, slabSize);
  let slab = Buffer.allocUnsafe(slabSize);
  let used = 0; // bytes of `slab` handed out; the socket reads into slab[used..]
  return {
    buffer: () => {
      if (slab.length - used < minFree) {
        slab = Buffer.allocUnsafe(slabSize);
        used = 0;
      }
      return slab.subarray(used);
    },
    callback: (nread, buf) => {
      // `buf` is the region the last buffer() call offered, which starts at slab[used].
      used += nread;
      deliver(Buffer.from(buf.buffer, buf.byteOffset, nread));
      return true; // the reader pauses the socket itself when it has enough queued
    },
  };
}
