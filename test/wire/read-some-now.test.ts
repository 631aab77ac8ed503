// Issue 12: StreamReader.readSomeNow takes what is queued without a promise (a PUTTREE's
// records loop awaits only an empty queue). It gives what readSome would, undefined when
// nothing is queued, refuses to interleave with a pending read, and lets a source paused at
// the high-water mark flow again once it has drained the queue.
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { test } from "node:test";
import { StreamReader } from "../../src/wire/index.js";
import { throwsWithCode } from "../helpers/assert-code.js";
import { readableFrom, splits } from "../helpers/feed.js";

const FIXTURE = Buffer.from("0123456789abcdefghij");

test("readSomeNow gives the queued bytes, at most max, in order, at every split", async () => {
  for (const { name, pieces } of splits(FIXTURE)) {
    const reader = new StreamReader(readableFrom(pieces));
    const got: Buffer[] = [];
    for (;;) {
      const now = reader.readSomeNow(3);
      if (now !== undefined) {
        assert.ok(now.length >= 1 && now.length <= 3, name);
        got.push(Buffer.from(now));
        continue;
      }
      if (reader.ended) break;
      await new Promise((resolve) => setImmediate(resolve)); // let the source deliver
    }
    assert.deepEqual(Buffer.concat(got), FIXTURE, name);
  }
});

test("readSomeNow is undefined on an empty queue, and a view when the bytes are queued", async () => {
  const chunk = Buffer.from("hello");
  const source = new Readable({ read() {} });
  const reader = new StreamReader(source);
  assert.equal(reader.readSomeNow(10), undefined);
  source.push(chunk);
  await new Promise((resolve) => setImmediate(resolve));
  const got = reader.readSomeNow(10);
  assert.equal(got?.toString(), "hello");
  assert.equal(got.buffer, chunk.buffer, "a view, not a copy");
  assert.equal(reader.readSomeNow(10), undefined);
  throwsWithCode(() => reader.readSomeNow(0), "BFTP_ERR_INVALID_ARGUMENT");
  source.destroy();
});

test("readSomeNow refuses while another read is pending", async () => {
  const source = new Readable({ read() {} });
  const reader = new StreamReader(source);
  const pending = reader.readExactly(4, { timeout: 5000 });
  throwsWithCode(() => reader.readSomeNow(1), "BFTP_ERR_READ_PENDING");
  source.push(Buffer.from("abcd"));
  assert.equal((await pending).toString(), "abcd");
  source.destroy();
});

test("a source paused at the high-water mark flows again once readSomeNow drains the queue", async () => {
  let reads = 0;
  const source = new Readable({
    highWaterMark: 4,
    read() {
      reads++;
      if (reads <= 20) this.push(Buffer.alloc(8, reads));
      else this.push(null);
    },
  });
  const reader = new StreamReader(source, { highWaterMark: 16 });
  let total = 0;
  for (let i = 0; i < 1000 && !reader.ended; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    for (let now = reader.readSomeNow(64); now !== undefined; now = reader.readSomeNow(64)) {
      total += now.length;
    }
  }
  assert.equal(total, 160, "every byte arrived: the source was resumed each time");
  assert.ok(reader.ended);
});
