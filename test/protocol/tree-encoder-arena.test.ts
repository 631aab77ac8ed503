// Issue 12: a PUTTREE sender gives each batch's memory back to the encoder once its socket
// write completed, so batches are built in two or three arenas in turn. What take() hands out
// must be the records alone, whichever arena they were built in.
import assert from "node:assert/strict";
import { test } from "node:test";
import { TreeEncoder } from "../../src/protocol/tree-encoder.js";

/** The records of `n` files, built by a fresh encoder each time: the expected bytes. */
function batchOf(first: number, n: number, crc: number): { bytes: Buffer; crc: number } {
  const out = new TreeEncoder(1 << 16, crc);
  for (let i = first; i < first + n; i++) {
    out.head(`f${i}`, 3, i);
    out.data(Buffer.from([i & 0xff, 1, 2]));
    out.endOk("00000000");
  }
  return { bytes: Buffer.from(out.take()), crc: out.crc };
}

test("batches built in given-back arenas equal those built in fresh ones", () => {
  const out = new TreeEncoder(1 << 16);
  let crc = 0;
  let previous: Buffer | undefined;
  const arenas = new Set<ArrayBufferLike>();
  for (let round = 0; round < 12; round++) {
    const n = 500 + ((round * 37) % 300); // batches of different lengths, each over 64 KiB
    for (let i = round * 1000; i < round * 1000 + n; i++) {
      out.head(`f${i}`, 3, i);
      out.data(Buffer.from([i & 0xff, 1, 2]));
      out.endOk("00000000");
    }
    const batch = out.take();
    const want = batchOf(round * 1000, n, crc);
    assert.deepEqual(batch, want.bytes, `round ${round}`);
    crc = want.crc;
    assert.equal(out.crc, crc);
    if (round >= 6) arenas.add(batch.buffer); // once the arenas have grown to the batches
    // The write of the batch before this one has completed: its memory is free again.
    if (previous !== undefined) {
      const kept = Buffer.from(batch); // this batch is still being written: must not change
      out.giveBack(previous);
      assert.deepEqual(batch, kept);
    }
    previous = batch;
  }
  assert.ok(arenas.size <= 3, `${arenas.size} arenas for the last 6 batches`);
});

test("a view that does not start its arena is not taken back", () => {
  const out = new TreeEncoder(1 << 16);
  out.folder("a");
  const first = out.take();
  out.giveBack(first.subarray(1));
  out.folder("b");
  const second = out.take();
  assert.notEqual(second.buffer, first.buffer);
});
