// A PUTTREE results phase (PROTOCOL.md §8.14): R records only, decoded whole, byte by byte
// and at every split; any other record in it, or an R in a tree phase, is a broken stream.
import assert from "node:assert/strict";
import { test } from "node:test";
import { isBftpError } from "../../src/errors.js";
import { TreeDecoder, type TreeEvent } from "../../src/protocol/tree-decoder.js";
import { TreeEncoder } from "../../src/protocol/tree-encoder.js";
import { RECORD, encodeRecord } from "../../src/protocol/tree-records.js";
import { splits } from "../helpers/feed.js";

const MAX_CHUNK = 128;
const EXISTS = {
  code: "BFTP_ERR_EXISTS",
  status: 409,
  message: 'Cannot create "/up/b": it exists',
};

function decoder(results: boolean): TreeDecoder {
  return new TreeDecoder({
    maxChunk: MAX_CHUNK,
    maxTrailer: 8192,
    alg: "crc32",
    errorCode: "BFTP_ERR_PROTOCOL",
    results,
  });
}

/** Feeds the pieces as a receiver does, never more than `want()` at once. */
function decode(pieces: readonly Buffer[], results = true): { events: TreeEvent[]; done: boolean } {
  const d = decoder(results);
  const events: TreeEvent[] = [];
  for (const piece of pieces) {
    let at = 0;
    while (at < piece.length && !d.done) {
      const n = Math.min(d.want(), piece.length - at);
      events.push(...d.push(piece.subarray(at, at + n)));
      at += n;
    }
  }
  return { events, done: d.done };
}

function resultsPhase(): Buffer {
  const out = new TreeEncoder(MAX_CHUNK);
  out.result("a.txt");
  out.result("sub/b", EXISTS);
  out.result("é ü/c");
  return Buffer.concat([out.take(), out.finish()]);
}

const EXPECTED: TreeEvent[] = [
  { type: "result", path: "a.txt" },
  { type: "result", path: "sub/b", error: EXISTS },
  { type: "result", path: "é ü/c" },
  { type: "trailer" },
];

test("R records decode whole, byte by byte and at every split", () => {
  const bytes = resultsPhase();
  let count = 0;
  for (const { name, pieces } of splits(bytes)) {
    const { events, done } = decode(pieces);
    assert.equal(done, true, name);
    assert.deepEqual(events, EXPECTED, name);
    count++;
  }
  assert.equal(count, bytes.length + 1);
});

test("the encoder writes R as PROTOCOL.md §7.4 shows it", () => {
  const out = new TreeEncoder(MAX_CHUNK);
  out.result("new.txt");
  assert.equal(out.take().toString(), '0000001dR{"path":"new.txt","ok":true}');
});

test("a phase checksum that does not match is a mismatch in the trailer event", () => {
  const bytes = resultsPhase();
  const tampered = Buffer.from(bytes);
  const at = tampered.indexOf("a.txt");
  tampered[at] = "b".charCodeAt(0);
  const { events } = decode([tampered]);
  assert.equal(events.at(-1)?.type, "trailer");
  const last = events.at(-1) as { error?: { code: string } };
  assert.equal(last.error?.code, "BFTP_ERR_CHECKSUM_MISMATCH");
});

function brokenCode(pieces: readonly Buffer[], results = true): string | undefined {
  try {
    decode(pieces, results);
    return undefined;
  } catch (err) {
    return isBftpError(err) ? err.code : "not a BftpError";
  }
}

test("any other record in a results phase is a broken stream, whatever the split", () => {
  const others = [
    encodeRecord(RECORD.FOLDER, { path: "a" }),
    encodeRecord(RECORD.HEAD, { path: "a", size: 1, mtime: 1 }),
    encodeRecord(RECORD.DATA, Buffer.from("x")),
    encodeRecord(RECORD.END, { ok: true, checksum: "00000000" }),
    encodeRecord(RECORD.SKIP, { path: "a", type: "symlink" }),
    encodeRecord(RECORD.KEPT, { path: "a" }),
  ];
  for (const record of others) {
    for (const { name, pieces } of splits(record)) {
      assert.equal(brokenCode(pieces), "BFTP_ERR_PROTOCOL", `${record.toString()} ${name}`);
    }
  }
});

test("an R of the wrong shape is a broken stream", () => {
  const wrong = [
    { path: "a" },
    { path: "a", ok: false },
    { path: "", ok: true },
    { ok: true },
    { path: "a", ok: "yes" },
    { path: "a", ok: false, error: { code: "X" } },
  ];
  for (const body of wrong) {
    const record = encodeRecord(RECORD.RESULT, body);
    assert.equal(brokenCode([record]), "BFTP_ERR_PROTOCOL", JSON.stringify(body));
  }
  // A body over its limit is refused from the frame header, before it is buffered.
  const huge = Buffer.from(`00002001R`);
  assert.equal(brokenCode([huge]), "BFTP_ERR_FRAME_TOO_LARGE");
});

test("an R in a tree phase (GETTREE, or PUTTREE's records) is a broken stream", () => {
  const record = encodeRecord(RECORD.RESULT, { path: "a", ok: true });
  for (const { name, pieces } of splits(record)) {
    assert.equal(brokenCode(pieces, false), "BFTP_ERR_PROTOCOL", name);
  }
});
