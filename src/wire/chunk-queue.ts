/**
 * The bytes a reader has received and not yet handed out, kept as the chunks they arrived
 * in. Taking bytes that lie inside one chunk returns a view, not a copy; only a message that
 * spans chunks is copied, once, into a buffer of its exact size.
 *
 * Internal to `wire`: readers use it; nothing outside needs to.
 */
export class ChunkQueue {
  #chunks: Buffer[] = [];
  #head = 0; // index of the first live chunk in #chunks
  #offset = 0; // bytes of #chunks[#head] already consumed
  #length = 0;
  // Where the last search stopped, so a search resumed after new chunks arrive starts there
  // instead of walking every chunk again (linear time for a message spanning many chunks).
  #cursorChunk = 0;
  #cursorBase = 0; // queue position of the first byte of #chunks[#cursorChunk]

  /** Bytes queued. */
  get length(): number {
    return this.#length;
  }

  /** Appends a chunk (kept by reference, never copied). */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#length += chunk.length;
  }

  /** Removes and returns exactly `n` bytes (`n <= length`); a view when they lie in one chunk. */
  take(n: number): Buffer {
    const first = this.#chunks[this.#head];
    if (n === 0 || first === undefined) return Buffer.alloc(0);
    const available = first.length - this.#offset;
    if (n <= available) return this.takeSome(n);
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const piece = this.takeSome(n - filled);
      out.set(piece, filled);
      filled += piece.length;
    }
    return out;
  }

  /** The first `n` bytes (`n <= length`) without consuming them; a view when in one chunk. */
  peek(n: number): Buffer {
    const first = this.#chunks[this.#head];
    if (n === 0 || first === undefined) return Buffer.alloc(0);
    if (first.length - this.#offset >= n) return first.subarray(this.#offset, this.#offset + n);
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    for (let i = this.#head; filled < n; i++) {
      const chunk = this.#chunks[i] as Buffer;
      const start = i === this.#head ? this.#offset : 0;
      const piece = chunk.subarray(start, start + n - filled);
      out.set(piece, filled);
      filled += piece.length;
    }
    return out;
  }

  /**
   * The unconsumed bytes of the first chunk, as a view, without consuming them (empty when
   * nothing is queued): for a parser that reads as far as it can and then `skip`s that many.
   */
  first(): Buffer {
    const first = this.#chunks[this.#head];
    return first === undefined ? Buffer.alloc(0) : first.subarray(this.#offset);
  }

  /** Removes and returns between 1 and `max` bytes from the first chunk, as a view (length > 0). */
  takeSome(max: number): Buffer {
    const first = this.#chunks[this.#head];
    if (first === undefined) return Buffer.alloc(0);
    const start = this.#offset;
    const end = Math.min(first.length, start + max);
    this.#length -= end - start;
    if (end === first.length) {
      this.#dropHead();
    } else {
      this.#offset = end;
    }
    this.#resetCursor();
    return first.subarray(start, end);
  }

  /** Discards up to `n` bytes without copying them; returns how many were discarded. */
  skip(n: number): number {
    let skipped = 0;
    while (skipped < n && this.#length > 0) skipped += this.takeSome(n - skipped).length;
    return skipped;
  }

  /**
   * Position of the first occurrence of `delimiter` at or after `from` (queue positions,
   * 0 = first unconsumed byte), or -1. Every start position `p` with `p + delimiter.length
   * <= length` has then been examined, so a caller that finds nothing resumes at
   * `max(from, length - delimiter.length + 1)` when more bytes arrive.
   */
  indexOf(delimiter: Buffer, from: number): number {
    const d = delimiter.length;
    this.#seekBack(from);
    for (let i = this.#cursorChunk; i < this.#chunks.length; i++) {
      const chunk = this.#chunks[i] as Buffer;
      const lead = i === this.#head ? this.#offset : 0; // consumed bytes at the chunk's start
      const base = this.#cursorBase; // queue position of chunk[lead]
      const size = chunk.length - lead;
      if (base + size <= from) {
        this.#cursorChunk = i + 1;
        this.#cursorBase = base + size;
        continue;
      }
      const localFrom = lead + Math.max(0, from - base);
      const inside = chunk.indexOf(delimiter, localFrom);
      if (inside !== -1) return base + inside - lead;
      // Matches that start in this chunk's last d-1 bytes and run into the next chunks.
      for (let p = Math.max(localFrom, chunk.length - d + 1); p < chunk.length; p++) {
        if (this.#matchesAcross(delimiter, i, p)) return base + p - lead;
      }
      // Keep the cursor on the last chunk: a later search may start inside it.
      if (i < this.#chunks.length - 1) {
        this.#cursorChunk = i + 1;
        this.#cursorBase = base + size;
      }
    }
    return -1;
  }

  /** Whether `delimiter` starts at byte `p` of chunk `i` and continues into later chunks. */
  #matchesAcross(delimiter: Buffer, i: number, p: number): boolean {
    let chunk = this.#chunks[i] as Buffer;
    let pos = p;
    for (let k = 0; k < delimiter.length; k++) {
      while (pos >= chunk.length) {
        i++;
        const next = this.#chunks[i];
        if (next === undefined) return false; // not enough bytes yet
        chunk = next;
        pos = 0;
      }
      if (chunk[pos] !== delimiter[k]) return false;
      pos++;
    }
    return true;
  }

  /**
   * Moves the cursor back to the chunk holding `from`. A resumed search starts at most
   * `delimiter.length - 1` bytes before where the last one stopped, so this walks back over
   * a bounded number of chunks, keeping the search linear even when bytes arrive one by one.
   */
  #seekBack(from: number): void {
    while (this.#cursorBase > from && this.#cursorChunk > this.#head) {
      this.#cursorChunk--;
      const chunk = this.#chunks[this.#cursorChunk] as Buffer;
      const lead = this.#cursorChunk === this.#head ? this.#offset : 0;
      this.#cursorBase -= chunk.length - lead;
    }
  }

  #dropHead(): void {
    this.#head++;
    this.#offset = 0;
    if (this.#head === this.#chunks.length) {
      this.#chunks = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#chunks.length) {
      this.#chunks = this.#chunks.slice(this.#head);
      this.#head = 0;
    }
  }

  #resetCursor(): void {
    this.#cursorChunk = this.#head;
    this.#cursorBase = 0;
  }
}
