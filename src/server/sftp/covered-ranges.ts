/** Most separate ranges an upload may have written at once (clients write in order, mostly). */
const MAX_RANGES = 1024;

/**
 * The byte ranges an SFTP upload has written, merged: CLOSE commits an upload only when they
 * cover the file from 0 to its end with no hole (a WRITE lost or refused would leave one).
 * Writes arrive out of order (OpenSSH's `sftp` keeps 64 in flight), so a few ranges coexist
 * briefly; more than {@link MAX_RANGES} is refused.
 */
export class CoveredRanges {
  /** Sorted, disjoint, non-adjacent [start, end) pairs. */
  #ranges: [number, number][] = [];

  /** The end of the last range: the file's length so far. */
  get end(): number {
    return this.#ranges.at(-1)?.[1] ?? 0;
  }

  /** Adds [start, end); false (nothing added) when that would make too many ranges. */
  add(start: number, end: number): boolean {
    if (end <= start) return true;
    const ranges = this.#ranges;
    // The first range that ends at or after `start` (touching counts: they merge).
    let i = ranges.length;
    while (i > 0 && (ranges[i - 1] as [number, number])[1] >= start) i--;
    let j = i;
    let lo = start;
    let hi = end;
    while (j < ranges.length && (ranges[j] as [number, number])[0] <= end) {
      const [s, e] = ranges[j] as [number, number];
      lo = Math.min(lo, s);
      hi = Math.max(hi, e);
      j++;
    }
    if (j === i && ranges.length >= MAX_RANGES) return false;
    ranges.splice(i, j - i, [lo, hi]);
    return true;
  }

  /** Cuts everything at or past `size`; growing to `size` counts as written (zeros, asked for). */
  truncate(size: number): void {
    const end = this.end;
    this.#ranges = this.#ranges
      .filter(([s]) => s < size)
      .map(([s, e]): [number, number] => [s, Math.min(e, size)]);
    if (size > end) this.add(end, size);
  }

  /** The first offset no write covered, below the end; undefined when there is no hole. */
  firstHole(): number | undefined {
    const first = this.#ranges[0];
    if (first === undefined) return undefined; // nothing written: an empty file
    if (first[0] > 0) return 0;
    return this.#ranges.length > 1 ? first[1] : undefined;
  }
}
