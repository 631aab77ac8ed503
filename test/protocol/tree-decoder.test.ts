// The tree data phase's decoder (PROTOCOL.md §8.13, issue 12): fed whole, byte by byte, at
// every split and with random garbage; never a crash, always a stable code.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { isBftpError } from "../../src/errors.js";
import { createChecksum } from "../../src/protocol/checksum.js";
import { TreeDecoder, type TreeEvent } from "../../src/protocol/tree-decoder.js";
import { TreeEncoder } from "../../src/protocol/tree-encoder.js";
import { RECORD, encodeRecord } from "../../src/protocol/tree-records.js";
import { splits } from "../helpers/feed.js";
import { clientTreeDecoder } from "../helpers/tree-decoder.js";

const MAX_CHUNK = 128;
const STABLE = new Set([
  "BFTP_ERR_PROTOCOL",
  "BFTP_ERR_FRAME_TOO_LARGE",
  "BFTP_ERR_BAD_FRAME_HEADER",
]);

function decoder(): TreeDecoder {
  return clientTreeDecoder(MAX_CHUNK);
}

/**
 * Feeds the pieces one of the two ways a receiver does: each piece whole as it arrives (the
 * tree-phase reader, tree-phase-reader.ts, whose decoder reads a record that is all in the
 * piece at once), or never more than `want()` at once; the data joined per file.
 */
function feed(pieces: readonly Buffer[], bounded: boolean): { events: TreeEvent[]; done: boolean } {
  const d = decoder();
  const events: TreeEvent[] = [];
  for (const piece of pieces) {
    let at = 0;
    while (at < piece.length && !d.done) {
      const n = bounded ? Math.min(d.want(), piece.length - at) : piece.length - at;
      events.push(...d.push(piece.subarray(at, at + n)));
      at += n;
    }
  }
  return { events: joinData(events), done: d.done };
}

/** The code of what `run` threw, or undefined when it returned. */
function thrownCode(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (err) {
    return isBftpError(err) ? err.code : String(err);
  }
}

/**
 * Decodes the pieces fed both ways ({@link feed}), which must agree: the same events, or the
 * same error code (then thrown, as the bounded feed throws it).
 */
function decode(pieces: readonly Buffer[]): { events: TreeEvent[]; done: boolean } {
  const wholeCode = thrownCode(() => feed(pieces, false));
  const boundedCode = thrownCode(() => feed(pieces, true));
  assert.equal(wholeCode, boundedCode, "fed whole and fed bounded by want() disagree");
  const result = feed(pieces, true);
  assert.deepEqual(feed(pieces, false), result, "fed whole and fed bounded by want() disagree");
  return result;
}

function joinData(events: TreeEvent[]): TreeEvent[] {
  const out: TreeEvent[] = [];
  for (const e of events) {
    const last = out.at(-1);
    if (e.type === "data" && last?.type === "data") {
      out[out.length - 1] = { type: "data", bytes: Buffer.concat([last.bytes, e.bytes]) };
    } else out.push(e.type === "data" ? { type: "data", bytes: Buffer.from(e.bytes) } : e);
  }
  return out;
}

function crc(bytes: Uint8Array): string {
  const sum = createChecksum("crc32");
  sum.update(bytes);
  return sum.digest();
}

/** A phase with one of every record: a folder, two files, a failed file, a skip, a kept file. */
function sample(): Buffer {
  const out = new TreeEncoder(MAX_CHUNK);
  const big = Buffer.alloc(300, 7); // three D frames at MAX_CHUNK 128
  out.folder("sub");
  out.head("sub/a.txt", 5, 1763700000000);
  out.data(Buffer.from("hello"));
  out.endOk(crc(Buffer.from("hello")));
  out.head("big.bin", big.length, 1);
  out.data(big);
  out.endOk(crc(big));
  out.head("gone.txt", 10, 2);
  out.endError({ code: "BFTP_ERR_FILE_CHANGED", status: 409, message: "changed" });
  out.skip("link", "symlink");
  out.kept("old.txt");
  out.head("empty", 0, 3);
  out.endOk(crc(Buffer.alloc(0)));
  return Buffer.concat([out.take(), out.finish()]);
}

const EXPECTED: TreeEvent[] = [
  { type: "folder", path: "sub" },
  { type: "file", path: "sub/a.txt", size: 5, mtime: 1763700000000 },
  { type: "data", bytes: Buffer.from("hello") },
  { type: "end", path: "sub/a.txt", checksum: crc(Buffer.from("hello")) },
  { type: "file", path: "big.bin", size: 300, mtime: 1 },
  { type: "data", bytes: Buffer.alloc(300, 7) },
  { type: "end", path: "big.bin", checksum: crc(Buffer.alloc(300, 7)) },
  { type: "file", path: "gone.txt", size: 10, mtime: 2 },
  {
    type: "end",
    path: "gone.txt",
    error: { code: "BFTP_ERR_FILE_CHANGED", status: 409, message: "changed" },
  },
  { type: "skip", path: "link", kind: "symlink" },
  { type: "kept", path: "old.txt" },
  { type: "file", path: "empty", size: 0, mtime: 3 },
  { type: "end", path: "empty", checksum: "00000000" },
  { type: "trailer" },
];

test("a phase decodes the same whole, byte by byte and at every split", () => {
  const bytes = sample();
  for (const split of splits(bytes)) {
    const { events, done } = decode(split.pieces);
    assert.equal(done, true, split.name);
    assert.deepEqual(events, EXPECTED, split.name);
  }
});

test("bytes after the trailer are left for what follows, even when pushed at once", () => {
  const next = Buffer.from('0000000b{"ok":true}');
  const d = decoder();
  d.push(Buffer.concat([sample(), next]));
  assert.equal(d.done, true);
  assert.deepEqual(d.rest, next);
});

test("a file whose bytes do not match its checksum fails alone; the phase goes on", () => {
  const out = new TreeEncoder(MAX_CHUNK);
  out.head("a", 3, 0);
  out.data(Buffer.from("abc"));
  out.endOk("00000000");
  out.folder("after");
  const { events } = decode([Buffer.concat([out.take(), out.finish()])]);
  const end = events[2];
  assert.ok(end?.type === "end");
  assert.equal(end.error?.code, "BFTP_ERR_CHECKSUM_MISMATCH");
  assert.deepEqual(events.slice(3), [{ type: "folder", path: "after" }, { type: "trailer" }]);
});

test("a trailer whose checksum differs from the records is reported as a mismatch", () => {
  const out = new TreeEncoder(MAX_CHUNK);
  out.folder("a");
  const body = out.take();
  out.crc ^= 1;
  const { events } = decode([Buffer.concat([body, out.finish()])]);
  const last = events.at(-1);
  assert.equal(last?.type === "trailer" ? last.error?.code : "", "BFTP_ERR_CHECKSUM_MISMATCH");
});

/** Streams that break a rule, each with the code it must fail with. */
const BROKEN: readonly { name: string; bytes: Buffer; code: string }[] = [
  {
    name: "data outside a file",
    bytes: encodeRecord(RECORD.DATA, Buffer.from("x")),
    code: "BFTP_ERR_PROTOCOL",
  },
  {
    name: "an end outside a file",
    bytes: encodeRecord(RECORD.END, { ok: true, checksum: "0" }),
    code: "BFTP_ERR_PROTOCOL",
  },
  {
    name: "a folder inside a file",
    bytes: Buffer.concat([
      encodeRecord(RECORD.HEAD, { path: "a", size: 1, mtime: 0 }),
      encodeRecord(RECORD.FOLDER, { path: "b" }),
    ]),
    code: "BFTP_ERR_PROTOCOL",
  },
  {
    name: "more bytes than the size",
    bytes: Buffer.concat([
      encodeRecord(RECORD.HEAD, { path: "a", size: 1, mtime: 0 }),
      encodeRecord(RECORD.DATA, Buffer.from("xy")),
    ]),
    code: "BFTP_ERR_PROTOCOL",
  },
  {
    name: "an ok end before the size",
    bytes: Buffer.concat([
      encodeRecord(RECORD.HEAD, { path: "a", size: 2, mtime: 0 }),
      encodeRecord(RECORD.END, { ok: true, checksum: "0" }),
    ]),
    code: "BFTP_ERR_PROTOCOL",
  },
  {
    name: "the terminator inside a file",
    bytes: Buffer.concat([
      encodeRecord(RECORD.HEAD, { path: "a", size: 0, mtime: 0 }),
      Buffer.from("00000000"),
    ]),
    code: "BFTP_ERR_PROTOCOL",
  },
  { name: "an unknown type", bytes: encodeRecord(0x5a, { path: "a" }), code: "BFTP_ERR_PROTOCOL" },

  {
    name: "a negative size",
    bytes: encodeRecord(RECORD.HEAD, { path: "a", size: -1, mtime: 0 }),
    code: "BFTP_ERR_PROTOCOL",
  },
  {
    name: "not JSON",
    bytes: encodeRecord(RECORD.FOLDER, Buffer.from("{")),
    code: "BFTP_ERR_PROTOCOL",
  },
  {
    name: "not UTF-8",
    bytes: encodeRecord(RECORD.FOLDER, Buffer.from([0xff, 0xfe])),
    code: "BFTP_ERR_PROTOCOL",
  },
  { name: "an empty record", bytes: Buffer.from("00000001F"), code: "BFTP_ERR_PROTOCOL" },
  {
    name: "an empty data record",
    bytes: Buffer.concat([
      encodeRecord(RECORD.HEAD, { path: "a", size: 1, mtime: 0 }),
      Buffer.from("00000001D"),
    ]),
    code: "BFTP_ERR_PROTOCOL",
  },
  {
    name: "a frame over maxChunk",
    bytes: Buffer.from("00000081D"),
    code: "BFTP_ERR_FRAME_TOO_LARGE",
  },
  {
    name: "a JSON record over its limit",
    bytes: Buffer.from("00002002F"),
    code: "BFTP_ERR_FRAME_TOO_LARGE",
  },
  { name: "a bad header", bytes: Buffer.from("0000zz01F"), code: "BFTP_ERR_BAD_FRAME_HEADER" },
  {
    name: "a trailer that is not one",
    bytes: Buffer.from("0000000000000002{}"),
    code: "BFTP_ERR_PROTOCOL",
  },
  { name: "an empty trailer", bytes: Buffer.from("0000000000000000"), code: "BFTP_ERR_PROTOCOL" },
];

test("unsafe names pass the decoder as they are: the receiver skips them, not the connection", () => {
  const out = new TreeEncoder(MAX_CHUNK);
  for (const name of ["../x", "/etc/passwd", "a/../../b", "a\u001b[2J"]) out.folder(name);
  const { events, done } = decode([Buffer.concat([out.take(), out.finish()])]);
  assert.equal(done, true);
  assert.deepEqual(
    events.map((e) => (e.type === "folder" ? e.path : e.type)),
    ["../x", "/etc/passwd", "a/../../b", "a\u001b[2J", "trailer"],
  );
});

test("every broken rule fails with its code, whole, byte by byte and at every split", () => {
  for (const broken of BROKEN) {
    for (const split of splits(broken.bytes)) {
      assert.throws(
        () => decode(split.pieces),
        (err: unknown) => isBftpError(err) && err.code === broken.code,
        `${broken.name}, ${split.name}`,
      );
    }
  }
});

test("random records round-trip through the encoder and decoder at random cuts", () => {
  const name = fc.stringMatching(/^[a-z0-9._-]{1,12}$/).filter((n) => n !== "." && n !== "..");
  const file = fc.record({ path: name, bytes: fc.uint8Array({ maxLength: 200 }), mtime: fc.nat() });
  fc.assert(
    fc.property(
      fc.array(file, { maxLength: 8 }),
      fc.array(fc.nat(), { maxLength: 6 }),
      (files, cuts) => {
        const out = new TreeEncoder(MAX_CHUNK);
        for (const f of files) {
          out.head(f.path, f.bytes.length, f.mtime);
          out.data(f.bytes);
          out.endOk(crc(f.bytes));
        }
        const bytes = Buffer.concat([out.take(), out.finish()]);
        const points = cuts.map((c) => c % (bytes.length + 1)).sort((a, b) => a - b);
        const pieces: Buffer[] = [];
        let start = 0;
        for (const p of points) {
          pieces.push(bytes.subarray(start, p));
          start = p;
        }
        pieces.push(bytes.subarray(start));
        const { events, done } = decode(pieces.filter((p) => p.length > 0));
        assert.equal(done, true);
        const ends = events.flatMap((e) => (e.type === "end" ? [e] : []));
        assert.equal(ends.length, files.length);
        for (const e of ends) assert.equal(e.error, undefined);
      },
    ),
    { numRuns: 300 },
  );
});

test("random garbage never crashes the decoder: events, or a stable code", () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ minLength: 1, maxLength: 40 }), { maxLength: 8 }),
      (chunks) => {
        try {
          decode(chunks.map((c) => Buffer.from(c)));
        } catch (err) {
          assert.ok(isBftpError(err) && STABLE.has(err.code), String(err));
        }
      },
    ),
    { numRuns: 2000 },
  );
});

test("garbage after a valid prefix also fails with a stable code", () => {
  const prefix = sample().subarray(0, 40);
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 60 }), (tail) => {
      try {
        decode([prefix, Buffer.from(tail)]);
      } catch (err) {
        assert.ok(isBftpError(err) && STABLE.has(err.code), String(err));
      }
    }),
    { numRuns: 1000 },
  );
});
