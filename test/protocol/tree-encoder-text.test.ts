// Issue 12: the tree encoder spells the two records of every file (`H` and a successful `E`)
// by hand instead of through JSON.stringify of an object, for speed. The bytes must be the
// very same: checked here against JSON.stringify for paths with quotes, backslashes, control
// characters, non-ASCII and lone surrogates, and for sizes and times at their limits.
import assert from "node:assert/strict";
import zlib from "node:zlib";
import { test } from "node:test";
import { TreeEncoder } from "../../src/protocol/tree-encoder.js";
import { RECORD } from "../../src/protocol/tree-records.js";

const PATHS = [
  "a.txt",
  'quote"in',
  "back\\slash",
  "ctl\u0001\u001f\u007f",
  "line\nbreak\ttab",
  "ünïcödé/日本語/😀",
  "lone\ud800surrogate",
  "",
];
const NUMBERS = [0, 1, 4096, Number.MAX_SAFE_INTEGER, 1_763_700_000_000];

/** The frame a record of `type` with body `text` must be: header, type byte, UTF-8 body. */
function frame(type: number, text: string): Buffer {
  const body = Buffer.from(text, "utf8");
  const header = Buffer.from((1 + body.length).toString(16).padStart(8, "0"));
  return Buffer.concat([header, Buffer.from([type]), body]);
}

test("H records are JSON.stringify({path, size, mtime}), byte for byte", () => {
  for (const path of PATHS) {
    for (const size of NUMBERS) {
      for (const mtime of NUMBERS) {
        const out = new TreeEncoder(1 << 20);
        out.head(path, size, mtime);
        assert.deepEqual(out.take(), frame(RECORD.HEAD, JSON.stringify({ path, size, mtime })));
      }
    }
  }
});

test("successful E records are JSON.stringify({ok: true, checksum}), byte for byte", () => {
  for (const checksum of ["00000000", "deadbeef", "a".repeat(64)]) {
    const out = new TreeEncoder(1 << 20);
    out.endOk(checksum);
    assert.deepEqual(out.take(), frame(RECORD.END, JSON.stringify({ ok: true, checksum })));
  }
});

test("the phase checksum runs over the records as written", () => {
  const out = new TreeEncoder(1 << 20);
  out.head(PATHS[5] as string, 3, 7);
  out.endOk("deadbeef");
  const built = out.take();
  const payloads = [
    frame(RECORD.HEAD, JSON.stringify({ path: PATHS[5], size: 3, mtime: 7 })).subarray(8),
    frame(RECORD.END, JSON.stringify({ ok: true, checksum: "deadbeef" })).subarray(8),
  ];
  assert.equal(built.length, Buffer.concat(payloads).length + 16);
  assert.equal(out.crc, zlib.crc32(Buffer.concat(payloads)));
});

test("takeLast hands over what was built, and nothing is built after it", () => {
  const out = new TreeEncoder(1 << 20);
  out.kept("x");
  const first = out.takeLast();
  assert.deepEqual(first, frame(RECORD.KEPT, JSON.stringify({ path: "x" })));
  assert.equal(out.length, 0);
});
