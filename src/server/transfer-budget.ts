/**
 * How much buffer memory the transfers of one server process share (issue 5). A lone GET
 * reads 1 MiB at a time (a 128 KiB read costs 2.5 times the server CPU per GiB), but a
 * hundred of them at 3 MiB each would hold 300 MB: so each transfer sizes its next buffer
 * from its share of this budget, between 64 KiB and its own maximum, and asks again before
 * each read. A transfer holds a few buffers (GET three, PUT two batches), so the whole
 * stays near the budget however many run.
 */
/** The bytes all transfers share; downloads take them from one slab of this size (transfer-arena.ts). */
export const BUDGET_BYTES = 16 * 1024 * 1024;
const MIN_BUFFER = 64 * 1024;

let active = 0;

/** A transfer's claim on the budget: its buffer size now, and how to give the claim back. */
export interface BufferShare {
  /** The size for the next buffer: a power of two between 64 KiB and `max`. */
  size(): number;
  /** Ends the claim (once; later calls do nothing). */
  release(): void;
}

/**
 * Registers a transfer that holds `buffers` buffers of up to `max` bytes each.
 *
 * @example
 * const share = claimBuffers(3, 1 << 20);
 * try { const buffer = Buffer.allocUnsafe(share.size()); ... } finally { share.release(); }
 */
export function claimBuffers(buffers: number, max: number): BufferShare {
  active++;
  let released = false;
  return {
    size: () => {
      const fair = BUDGET_BYTES / (Math.max(1, active) * buffers);
      let size = MIN_BUFFER;
      while (size * 2 <= fair && size * 2 <= max) size *= 2;
      return Math.min(size, max);
    },
    release: () => {
      if (released) return;
      released = true;
      active--;
    },
  };
}
