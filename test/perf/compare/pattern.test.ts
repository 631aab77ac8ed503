import assert from "node:assert/strict";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import {
  PERIOD,
  PatternCheck,
  patternChunks,
  verifyPatternFile,
  writePatternFile,
} from "../../../perf/compare/pattern.js";

const SIZE = 3 * PERIOD + 12_345;

function bytesOf(seed: number, size: number): Buffer {
  return Buffer.concat([...patternChunks(seed, size)]);
}

function checkIn(seed: number, size: number, received: Buffer, piece: number): PatternCheck {
  const check = new PatternCheck(seed, size);
  for (let at = 0; at < received.length; at += piece)
    check.update(received.subarray(at, at + piece));
  return check;
}

test("the exact bytes pass, whatever the chunk sizes", () => {
  const bytes = bytesOf(3, SIZE);
  assert.equal(bytes.length, SIZE);
  for (const piece of [1 << 20, 65_536, 4093, 2 * PERIOD + 1, SIZE])
    checkIn(3, SIZE, bytes, piece).verify("exact");
});

test("one flipped byte anywhere fails", () => {
  for (const at of [0, PERIOD - 1, PERIOD, SIZE - 1]) {
    const bytes = bytesOf(3, SIZE);
    bytes[at] = (bytes[at] ?? 0) ^ 1;
    assert.throws(() => {
      checkIn(3, SIZE, bytes, 65_536).verify("flipped");
    });
  }
});

test("a missing, an extra, a repeated 1 MiB block, or another file's bytes fail", () => {
  const bytes = bytesOf(3, SIZE);
  const cases = {
    short: bytes.subarray(0, SIZE - 1),
    long: Buffer.concat([bytes, Buffer.alloc(1)]),
    repeated: Buffer.concat([bytes.subarray(0, 1 << 20), bytes.subarray(0, SIZE - (1 << 20))]),
    otherSeed: bytesOf(4, SIZE),
  };
  for (const [name, received] of Object.entries(cases))
    assert.throws(() => {
      checkIn(3, SIZE, received, 65_536).verify(name);
    }, name);
});

test("a written pattern file verifies, and a changed one does not", async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "bftp-pattern-"));
  try {
    const file = path.join(dir, "f.bin");
    await writePatternFile(file, 9, SIZE);
    assert.equal((await fs.stat(file)).size, SIZE);
    await verifyPatternFile(file, 9, SIZE);
    await assert.rejects(verifyPatternFile(file, 10, SIZE));
    await fs.truncate(file, SIZE - 1);
    await assert.rejects(verifyPatternFile(file, 9, SIZE));
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
