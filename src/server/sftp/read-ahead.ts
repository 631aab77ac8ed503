import type { ReadHandle } from "../storage/storage.js";

/** Bytes read from the file at once: eight of OpenSSH's 32 KiB requests. */
const CHUNK = 256 * 1024;

/** Chunks kept per handle: the ones readers are in, and the next. */
const KEEP = 4;

/**
 * Reads a file in 256 KiB chunks and answers SFTP's small READs from them. OpenSSH's client
 * asks for 32 KiB at a time, 64 in flight: one read of the file per request was a thread-pool
 * round trip each (a profile of a 512 MiB GET on 2 cores: the largest part of the server's
 * busy time); a chunk serves eight. Requests for a chunk being read wait for that one read.
 * At most {@link KEEP} chunks are held (1 MiB), the lowest dropped first, as a download moves
 * forward; a request below them reads its chunk again.
 */
export class ReadAhead {
  readonly #file: ReadHandle;
  readonly #chunks = new Map<number, Promise<Buffer>>();

  constructor(file: ReadHandle) {
    this.#file = file;
  }

  /** Up to `length` bytes from `offset`; fewer only at the end of the file (empty past it). */
  async read(offset: number, length: number): Promise<Buffer> {
    const pieces: Buffer[] = [];
    let at = offset;
    let left = length;
    while (left > 0) {
      const index = Math.floor(at / CHUNK);
      const chunk = await this.#chunk(index);
      const start = at - index * CHUNK;
      if (start >= chunk.length) break; // past the end
      const piece = chunk.subarray(start, Math.min(chunk.length, start + left));
      pieces.push(piece);
      at += piece.length;
      left -= piece.length;
      if (chunk.length < CHUNK) break; // the last chunk
    }
    return pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat(pieces);
  }

  #chunk(index: number): Promise<Buffer> {
    let chunk = this.#chunks.get(index);
    if (chunk === undefined) {
      chunk = this.#fill(index);
      this.#chunks.set(index, chunk);
      // A failed read is not kept: the next request tries again, and gets its own error.
      chunk.catch(() => this.#chunks.delete(index));
      while (this.#chunks.size > KEEP) {
        const lowest = Math.min(...this.#chunks.keys());
        this.#chunks.delete(lowest === index ? Math.max(...this.#chunks.keys()) : lowest);
      }
    }
    return chunk;
  }

  async #fill(index: number): Promise<Buffer> {
    const buffer = Buffer.allocUnsafe(CHUNK);
    let filled = 0;
    while (filled < CHUNK) {
      const n = await this.#file.read(buffer.subarray(filled), index * CHUNK + filled);
      if (n === 0) break;
      filled += n;
    }
    return buffer.subarray(0, filled);
  }
}
