import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { test } from "node:test";
import { VerifyingSink, testData } from "../../src/bench/test-data.js";

// Issue 5, item 1: the test bytes of `bftp bench`, and the check of every downloaded byte.

async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

/** Feeds `bytes` to a fresh sink in pieces of `piece` bytes and returns the sink. */
async function verify(
  seed: number,
  size: number,
  bytes: Buffer,
  piece: number,
): Promise<VerifyingSink> {
  const sink = new VerifyingSink(seed, size);
  const pieces = function* () {
    for (let i = 0; i < bytes.length; i += piece) yield bytes.subarray(i, i + piece);
  };
  await pipeline(Readable.from(pieces()), sink);
  return sink;
}

test("the same seed and size give the same bytes, of exactly that length", async () => {
  const a = await collect(testData(7, 300_001));
  const b = await collect(testData(7, 300_001));
  assert.equal(a.length, 300_001);
  assert.ok(a.equals(b));
  assert.equal((await collect(testData(7, 0))).length, 0);
});

test("another seed or another size gives other bytes", async () => {
  const a = await collect(testData(7, 4096));
  assert.ok(!a.equals(await collect(testData(8, 4096))));
  assert.ok(!a.equals((await collect(testData(7, 4097))).subarray(0, 4096)));
  // Not a constant or a short repeat: about 256 distinct byte values.
  assert.ok(new Set(a).size > 200);
});

test("the sink accepts the right bytes whole, byte by byte and in odd pieces", async () => {
  const bytes = await collect(testData(3, 70_000));
  for (const piece of [70_000, 1, 7, 65_537]) {
    const sink = await verify(3, 70_000, piece === 1 ? bytes.subarray(0, 70_000) : bytes, piece);
    assert.equal(sink.mismatch, undefined, `pieces of ${piece}`);
    assert.equal(sink.received, 70_000);
  }
  assert.equal((await verify(3, 0, Buffer.alloc(0), 1)).mismatch, undefined);
});

test("one flipped byte is found at its offset, whatever the pieces", async () => {
  const bytes = await collect(testData(3, 70_000));
  for (const at of [0, 1, 4095, 65_536, 69_999]) {
    const bad = Buffer.from(bytes);
    bad[at] = (bad[at] ?? 0) ^ 0x01;
    for (const piece of [70_000, 4096, 333]) {
      const sink = await verify(3, 70_000, bad, piece);
      assert.deepEqual(
        sink.mismatch,
        { offset: at, received: 70_000, expected: 70_000 },
        `at ${at}`,
      );
    }
  }
});

test("missing and extra bytes are mismatches too", async () => {
  const bytes = await collect(testData(3, 5000));
  const short = await verify(3, 5000, bytes.subarray(0, 4000), 1000);
  assert.deepEqual(short.mismatch, { offset: 4000, received: 4000, expected: 5000 });
  const extra = await verify(
    3,
    4000,
    Buffer.concat([await collect(testData(3, 4000)), Buffer.from("x")]),
    999,
  );
  assert.deepEqual(extra.mismatch, { offset: 4000, received: 4001, expected: 4000 });
  // Another seed's bytes differ at once.
  const other = await verify(4, 5000, bytes, 5000);
  assert.equal(other.mismatch?.offset !== undefined && other.mismatch.offset < 4, true);
});

test("a 100 MiB stream is generated in pieces, never held whole", async () => {
  let largest = 0;
  let total = 0;
  const digest = createHash("sha256");
  for await (const chunk of testData(1, 100 * 1024 ** 2)) {
    largest = Math.max(largest, (chunk as Buffer).length);
    total += (chunk as Buffer).length;
    digest.update(chunk as Buffer);
  }
  assert.equal(total, 100 * 1024 ** 2);
  assert.ok(largest <= 256 * 1024, `largest piece ${largest}`);
});
