import type { OnReadOpts } from "node:net";

/** Options for {@link slabOnread}. */
export interface SlabOnreadOptions {
  /** Size of each slab the socket reads into (default 1 MiB). */
  readonly slabSize?: number;
  /** Least room a read is offered; a slab with less left is replaced (default 128 KiB). */
  readonly minFree?: number;
}

/** What {@link slabOnread} returns: the `onread` option, and the way to reuse the slab. */
export interface SlabReads extends OnReadOpts {
  /**
   * Promises that no view of any byte delivered so far is used any more, so the next read
   * may go to the start of the current slab instead of a fresh one. Called by a consumer
   * that has written every byte it took and holds none (see `StreamReader.recycle`). It
   * takes effect only when called from inside `deliver`: at any other time the socket
   * already holds the region for its next read, and that region is kept.
   */
  readonly recycle: () => void;
}

/**
 * The `onread` option of `net.connect` / `new net.Socket` that reads a plain socket into
 * large slabs instead of a fresh 64 KiB Buffer per read, handing each read to `deliver` as a
 * view (usually `StreamReader.feed`). A slab is written front to back; a view stays valid for
 * as long as anyone holds it, and a slab is garbage once no view of it is left, unless
 * `recycle()` says that no view is used any more: then the next read starts again at the
 * front of the same slab, as the ceiling's receiver reads into one buffer (a download
 * written synchronously then allocates nothing per slab, and V8 no longer collects for the
 * external memory of a fresh 1 MiB per 1 MiB received). Fewer, larger reads and one
 * allocation per slab instead of per read: a download costs the receiver about a third less
 * CPU (docs/benchmarks.md).
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
): SlabReads {
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
      // `buf` is the region the last buffer() call offered. Where it starts is read from it,
      // not assumed to be slab[used]: a recycle() between that call and this read (outside
      // deliver) must not move `used` below bytes this read has just put there.
      if (buf.buffer === slab.buffer) used = buf.byteOffset - slab.byteOffset + nread;
      deliver(Buffer.from(buf.buffer, buf.byteOffset, nread));
      return true; // the reader pauses the socket itself when it has enough queued
    },
    recycle: () => {
      used = 0;
    },
  };
}
