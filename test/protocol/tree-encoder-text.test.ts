// Issue 12: the tree encoder spells the two records of every file (`H` and a successful `E`)
// by hand instead of through JSON.stringify of an object, for speed. The bytes must be the
// very same: checked here against JSON.stringify for paths with quotes, backslashes, control
// characters, non-ASCII and lone surrogates, and for sizes and times at their limits; and
// the decoder reads them back, fed whole, byte by byte and at every split.
import assert from "node:assert/strict";
import zlib from "node:zlib";
import { test } from "node:test";
import { TreeDecoder, type TreeEvent } from "../../src/protocol/tree-decoder.js";
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

/** The decoder's events for `stream` pushed in pieces cut at `cuts`, data joined per file. */
function decodeAt(stream: Buffer, cuts: readonly number[]): TreeEvent[] {
  const decoder = new TreeDecoder({
    maxChunk: 1 << 20,
    maxTrailer: 4096,
    alg: "crc32",
    errorCode: "BFTP_ERR_PROTOCOL",
  });
  const events: TreeEvent[] = [];
  let from = 0;
  for (const to of [...cuts, stream.length]) {
    for (const event of decoder.push(stream.subarray(from, to))) {
      const last = events.at(-1);
      if (event.type === "data" && last?.type === "data") {
        events[events.length - 1] = {
          type: "data",
          bytes: Buffer.concat([last.bytes, event.bytes]),
        };
      } else
        events.push(
          event.type === "data" ? { type: "data", bytes: Buffer.from(event.bytes) } : event,
        );
    }
    from = to;
  }
  assert.equal(decoder.done, true);
  return events;
}

test("the decoder reads the hand-spelled records back: whole, byte by byte, at every split", () => {
  const out = new TreeEncoder(1 << 20);
  const want: TreeEvent[] = [];
  for (const [i, path] of PATHS.slice(0, 6).entries()) {
    const bytes = Buffer.from(`content ${i}\n`);
    const checksum = zlib.crc32(bytes).toString(16).padStart(8, "0");
    out.head(path, bytes.length, 1_763_700_000_000 + i);
    out.data(bytes);
    out.endOk(checksum);
    want.push(
      { type: "file", path, size: bytes.length, mtime: 1_763_700_000_000 + i },
      { type: "data", bytes },
      { type: "end", path, checksum },
    );
  }
  want.push({ type: "trailer" });
  const stream = Buffer.concat([out.take(), out.finish()]);
  assert.deepEqual(decodeAt(stream, []), want);
  assert.deepEqual(
    decodeAt(
      stream,
      Array.from({ length: stream.length - 1 }, (_, i) => i + 1),
    ),
    want,
  );
  for (let cut = 1; cut < stream.length; cut++) assert.deepEqual(decodeAt(stream, [cut]), want);
});
