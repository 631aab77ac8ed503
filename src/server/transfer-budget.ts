/**
 * How much buffer memory the transfers of one server process share (issue 5). A lone GET
 * reads 1 MiB at a time (a 128 KiB read costs 2.5 times the server CPU per GiB), but a
 * hundred of them at 3 MiB each would hold 300 MB: so each transfer sizes its next buffer
 * from its share of this budget, between 64 KiB and its own maximum, and asks again before
 * each read. The whole stays near the budget however many run.
 *
 * A transfer that can make do with fewer buffers (a GET's rotation: one is enough when many
 * run, as the others keep the disk and the sockets busy) says so with `least`: its share then
 * buys larger buffers rather than more of them. Per-buffer costs (a read on the thread pool,
 * a `writev`, the wake-ups of both ends) dominate a crowd's CPU, so 100 GETs reading one
 * 128 KiB buffer each spend far less per GiB than with four of 64 KiB, in the same memory.
 * A GET also gives a floor (`CROWD_BUFFER`, 256 KiB): a hundred of them then ask for more
 * than the slab holds, and the slab, not the share, bounds the bytes: they take turns with
 * its buffers (transfer-arena.ts), which costs less CPU per byte than one 128 KiB each.
 */
/** The bytes all transfers share; downloads take them from one slab of this size (transfer-arena.ts). */
export const BUDGET_BYTES = 16 * 1024 * 1024;
const MIN_BUFFER = 64 * 1024;

/**
 * The first buffer a GET makes (FileSender's `firstBuffer`): a burst of GETs that start
 * together each begin with this much rather than the 1 MiB a quiet server would give the
 * first of them: 64 of them fill the slab, and the rest wait their turn (`CROWD_BUFFER`).
 */
export const FIRST_BUFFER = 256 * 1024;

/**
 * The least a GET's buffer holds in a crowd (`claimBuffers`' floor): past 64 GETs the slab
 * cannot give each one, and they take turns with its buffers (`TransferArena.wait`). Each
 * read and socket write costs about the same whatever its size, so under 100 clients
 * 256 KiB buffers taken in turn cost the server less CPU per byte than 128 KiB each.
 */
export const CROWD_BUFFER = 256 * 1024;

let active = 0;

/** A transfer's claim on the budget: its buffer size and count now, and how to give it back. */
export interface BufferShare {
  /** The size for the next buffer: a power of two between 64 KiB and `max`. */
  size(): number;
  /** How many buffers of that size to hold now: between `least` and `buffers`. */
  count(): number;
  /** Ends the claim (once; later calls do nothing). */
  release(): void;
}

/**
 * Registers a transfer that holds up to `buffers` buffers (at least `least`, default all of
 * them) of up to `max` bytes each.
 *
 * @example
 * const share = claimBuffers(4, 1 << 20, 1); // a GET's rotation: 4 x 1 MiB alone, 1 in a crowd
 * try { const buffer = Buffer.allocUnsafe(share.size()); ... } finally { share.release(); }
 */
export function claimBuffers(
  buffers: number,
  max: number,
  least = buffers,
  floor = MIN_BUFFER,
): BufferShare {
  if (!(Number.isInteger(least) && least >= 1 && least <= buffers))
    throw new RangeError(`least must be an integer from 1 to ${buffers}, not ${least}`);
  active++;
  let released = false;
  const share = (): number => BUDGET_BYTES / Math.max(1, active);
  const size = (): number => {
    const fair = share() / least;
    let size = Math.min(floor, max);
    while (size * 2 <= fair && size * 2 <= max) size *= 2;
    return Math.min(size, max);
  };
  return {
    size,
    count: () => Math.max(least, Math.min(buffers, Math.floor(share() / size()))),
    release: () => {
      if (released) return;
      released = true;
      active--;
    },
  };
}
