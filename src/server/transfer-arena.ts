import { BUDGET_BYTES } from "./transfer-budget.js";

/**
 * One fixed slab of memory that the server's downloads carve their buffers from (issue 12,
 * item 5: 100 clients under 100 MB). Buffers allocated one by one for every GET were each a
 * `malloc` and an `ArrayBuffer` of their own: garbage once the GET ended, collected when V8's
 * external-memory accounting got round to it, and fragments `malloc` kept. A slab is
 * allocated once (its pages become resident only when first used), its blocks are handed out
 * as views and given back when a transfer is done with them, so the bytes held for transfers
 * never exceed the slab and leave nothing to collect.
 *
 * Sizes are powers of two from one block (64 KiB) to 16 blocks (1 MiB), each at an offset
 * that is a multiple of its size (a buddy layout), found by a scan of the block map: 384
 * entries at most. When no run is free, `take` says so and the caller makes do (fewer
 * buffers), or waits for the next buffer given back (`wait`: GETs in a crowd take turns),
 * or, after a deadline, makes one of its own.
 *
 * @example
 * const buffer = sharedArena().take(256 * 1024); // undefined when the slab is full
 * ...
 * if (buffer !== undefined) sharedArena().give(buffer);
 */
export class TransferArena {
  static readonly BLOCK = 64 * 1024;
  readonly #blocks: number;
  #slab: ArrayBuffer | undefined;
  /** 1 where a block is handed out. */
  readonly #used: Uint8Array;
  /** Blocks handed out, by the offset of their first block, with their count. */
  readonly #out = new Map<number, number>();
  #inUse = 0;
  /** Transfers waiting for a buffer, first come first served (`wait`). */
  readonly #waiters: ((buffer: Buffer) => void)[] = [];
  /** Buffers given back and on their way to a waiter (first blocks): given back twice, ignored. */
  readonly #passing = new Set<number>();

  constructor(bytes: number) {
    this.#blocks = Math.max(1, Math.floor(bytes / TransferArena.BLOCK));
    this.#used = new Uint8Array(this.#blocks);
  }

  /** Bytes handed out now (tests, and a server's memory log). */
  get inUse(): number {
    return this.#inUse * TransferArena.BLOCK;
  }

  /**
   * A buffer of `size` bytes rounded up to a power of two of blocks (at most 16), or
   * undefined when no such run is free (or `size` is over 1 MiB).
   */
  take(size: number): Buffer | undefined {
    let count = 1;
    while (count * TransferArena.BLOCK < size) count *= 2;
    if (count > 16 || count > this.#blocks) return undefined;
    for (let first = 0; first + count <= this.#blocks; first += count) {
      let free = true;
      for (let i = first; i < first + count; i++) {
        if (this.#used[i] === 1) {
          free = false;
          break;
        }
      }
      if (!free) continue;
      this.#used.fill(1, first, first + count);
      this.#out.set(first, count);
      this.#inUse += count;
      this.#slab ??= new ArrayBuffer(this.#blocks * TransferArena.BLOCK);
      return Buffer.from(this.#slab, first * TransferArena.BLOCK, count * TransferArena.BLOCK);
    }
    return undefined;
  }

  /**
   * A buffer of `size` bytes as {@link take} gives it, or, when no run that large is free, the
   * largest free one below it down to one block: a GET that began while the server was quiet
   * holds large buffers, and those that start in the crowd after it make do with less rather
   * than allocate their own. Undefined only when not one block is free.
   */
  takeUpTo(size: number): Buffer | undefined {
    let want = Math.min(size, 16 * TransferArena.BLOCK);
    for (;;) {
      const buffer = this.take(want);
      if (buffer !== undefined || want <= TransferArena.BLOCK) return buffer;
      want = Math.floor(want / 2);
    }
  }

  /** Whether `buffer` is one this arena handed out and has not had back. */
  owns(buffer: Buffer): boolean {
    const first = buffer.byteOffset / TransferArena.BLOCK;
    return buffer.buffer === this.#slab && this.#out.has(first) && !this.#passing.has(first);
  }

  /** How many transfers wait for a buffer now: a holder should give its own back after use. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /**
   * Waits for a buffer (issue 12: a crowd of GETs takes turns with the slab's buffers instead
   * of each making one of its own): `ready` is handed the next buffer given back, whatever
   * its size, first come first served, on a microtask (never inside `give`). Returns a
   * withdrawal, which does nothing once the buffer is on its way: a waiter that no longer
   * needs the buffer it is handed gives it back.
   */
  wait(ready: (buffer: Buffer) => void): () => void {
    this.#waiters.push(ready);
    return () => {
      const at = this.#waiters.indexOf(ready);
      if (at >= 0) this.#waiters.splice(at, 1);
    };
  }

  /**
   * Gives back a buffer `take` returned (once; anything else is ignored). With a transfer
   * waiting, the buffer goes to it as it is, its blocks still handed out.
   */
  give(buffer: Buffer): void {
    if (!this.owns(buffer)) return;
    const first = buffer.byteOffset / TransferArena.BLOCK;
    const next = this.#waiters.shift();
    if (next !== undefined) {
      this.#passing.add(first);
      queueMicrotask(() => {
        this.#passing.delete(first);
        next(buffer);
      });
      return;
    }
    const count = this.#out.get(first) as number;
    this.#out.delete(first);
    this.#used.fill(0, first, first + count);
    this.#inUse -= count;
  }
}

let shared: TransferArena | undefined;

/** The process's arena, made on first use. */
export function sharedArena(): TransferArena {
  shared ??= new TransferArena(BUDGET_BYTES); // the transfer budget's size
  return shared;
}
