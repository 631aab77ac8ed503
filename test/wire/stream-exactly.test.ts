import assert from "node:assert/strict";
import { PassThrough, Writable } from "node:stream";
import { test } from "node:test";
import { StreamReader } from "../../src/wire/index.js";
import { rejectsWithCode } from "../helpers/assert-code.js";
import { readableFrom, splits } from "../helpers/feed.js";

/** A writable that keeps what it is given. */
class Collector extends Writable {
  chunks: Buffer[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.chunks.push(chunk);
    done();
  }
  get text(): string {
    return Buffer.concat(this.chunks).toString();
  }
}

test("streamExactly moves exactly n bytes at every split point; the rest stays queued", async () => {
  const fixture = Buffer.from("0123456789BODY-ENDnext");
  for (const { name, pieces } of splits(fixture)) {
    const reader = new StreamReader(readableFrom(pieces));
    const sink = new Collector();
    await reader.streamExactly(18, sink);
    assert.equal(sink.text, "0123456789BODY-END", name);
    assert.ok(sink.writableFinished, "destination ended by default");
    assert.equal((await reader.readToEnd({ max: 4 })).toString(), "next", name);
  }
});

test("streamExactly with end: false leaves the destination open for more", async () => {
  const reader = new StreamReader(readableFrom([Buffer.from("abcdef")]));
  const sink = new Collector();
  await reader.streamExactly(3, sink, { end: false });
  await reader.streamExactly(3, sink, { end: false });
  assert.equal(sink.text, "abcdef");
  assert.equal(sink.writableEnded, false);
  await reader.streamExactly(0, sink);
  assert.ok(sink.writableEnded);
});

test("end of stream mid-body is UNEXPECTED_EOF with counts, and the destination is destroyed", async () => {
  const reader = new StreamReader(readableFrom([Buffer.from("abc"), Buffer.from("de")]));
  const sink = new Collector();
  const err = await rejectsWithCode(reader.streamExactly(10, sink), "BFTP_ERR_UNEXPECTED_EOF");
  assert.deepEqual(err.details, { received: 5, expected: 10 });
  assert.ok(sink.destroyed);
});

test("a destination that fails cancels the pending read, which then takes no bytes", async () => {
  const source = new PassThrough();
  const reader = new StreamReader(source);
  const sink = new Writable({
    write(_chunk, _enc, done) {
      done(new Error("disk full"));
    },
  });
  source.write("abc");
  await assert.rejects(reader.streamExactly(100, sink), /disk full/);
  // The bytes written after the failure belong to the next read, not to the dead stream.
  source.write("next");
  assert.equal((await reader.readExactly(4, { timeout: 5000 })).toString(), "next");
});

test("streamToEnd streams until the peer closes and counts; refuses past max", async () => {
  const sink = new Collector();
  const n = await new StreamReader(
    readableFrom([Buffer.from("abc"), Buffer.from("defg")]),
  ).streamToEnd(sink, { max: 7 });
  assert.equal(n, 7);
  assert.equal(sink.text, "abcdefg");
  const small = new Collector();
  await rejectsWithCode(
    new StreamReader(readableFrom([Buffer.from("abc"), Buffer.from("defg")])).streamToEnd(small, {
      max: 6,
    }),
    "BFTP_ERR_MESSAGE_TOO_LONG",
  );
  assert.ok(Buffer.concat(small.chunks).length <= 6, "nothing past max reaches the destination");
});

test("streaming past 4 GiB in size arithmetic: lengths are 64-bit safe integers", async () => {
  // Not 4 GiB of bytes (too slow for a unit test), but the length itself must be accepted.
  const source = new PassThrough();
  const reader = new StreamReader(source);
  const sink = new Collector();
  const pending = reader.streamExactly(5 * 2 ** 30, sink);
  source.end(Buffer.from("short"));
  const err = await rejectsWithCode(pending, "BFTP_ERR_UNEXPECTED_EOF");
  assert.deepEqual(err.details, { received: 5, expected: 5 * 2 ** 30 });
  assert.ok(sink.destroyed);
});
