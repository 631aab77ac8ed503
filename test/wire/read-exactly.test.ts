import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { StreamReader, encodeFixedRecord } from "../../src/wire/index.js";
import { rejectsWithCode, throwsWithCode } from "../helpers/assert-code.js";
import { cutAt, readableFrom, splits } from "../helpers/feed.js";

const FIXTURE = Buffer.from("ABCDEFGHIJ0123456789tail");

test("readExactly: whole, byte by byte and at every split point", async () => {
  for (const { name, pieces } of splits(FIXTURE)) {
    const reader = new StreamReader(readableFrom(pieces));
    assert.equal((await reader.readExactly(10)).toString(), "ABCDEFGHIJ", name);
    assert.equal((await reader.readExactly(0)).length, 0);
    assert.equal((await reader.readExactly(10)).toString(), "0123456789", name);
    const err = await rejectsWithCode(reader.readExactly(10), "BFTP_ERR_UNEXPECTED_EOF");
    assert.deepEqual(err.details, { received: 4, expected: 10 });
  }
});

test("readExactly within one chunk returns a view, not a copy", async () => {
  const chunk = Buffer.from("0123456789");
  const reader = new StreamReader(readableFrom([chunk]));
  const got = await reader.readExactly(4);
  assert.equal(got.buffer, chunk.buffer);
});

test("fixed-length records round-trip with padding removed", async () => {
  const wire = Buffer.concat([
    encodeFixedRecord("GET", 8),
    encodeFixedRecord("", 8),
    encodeFixedRecord("LISTDIRS", 8),
  ]);
  for (const { name, pieces } of splits(wire)) {
    const reader = new StreamReader(readableFrom(pieces));
    const got = [];
    for (let i = 0; i < 3; i++) got.push((await reader.readFixedRecord(8, { pad: 0 })).toString());
    assert.deepEqual(got, ["GET", "", "LISTDIRS"], name);
  }
  throwsWithCode(() => encodeFixedRecord("too long!", 8), "BFTP_ERR_MESSAGE_TOO_LONG");
});

test("readSome returns what has arrived, at most max, then PEER_CLOSED", async () => {
  const reader = new StreamReader(readableFrom([Buffer.from("abc"), Buffer.from("defgh")]));
  assert.equal((await reader.readSome(100)).toString(), "abc");
  assert.equal((await reader.readSome(2)).toString(), "de");
  assert.equal((await reader.readSome(100)).toString(), "fgh");
  await rejectsWithCode(reader.readSome(1), "BFTP_ERR_PEER_CLOSED");
  await rejectsWithCode(reader.readSome(0), "BFTP_ERR_INVALID_ARGUMENT");
});

test("skip discards exactly n bytes at every split point", async () => {
  for (const { name, pieces } of splits(FIXTURE)) {
    const reader = new StreamReader(readableFrom(pieces));
    await reader.skip(20);
    assert.equal((await reader.readToEnd({ max: 4 })).toString(), "tail", name);
  }
});

test("readToEnd returns everything until the peer closes, and refuses more than max", async () => {
  for (const { name, pieces } of splits(FIXTURE)) {
    assert.equal(
      (await new StreamReader(readableFrom(pieces)).readToEnd({ max: 24 })).toString(),
      FIXTURE.toString(),
      name,
    );
    await rejectsWithCode(
      new StreamReader(readableFrom(pieces)).readToEnd({ max: 23 }),
      "BFTP_ERR_MESSAGE_TOO_LONG",
    );
  }
  assert.equal((await new StreamReader(readableFrom([])).readToEnd({ max: 0 })).length, 0);
});

test("readToEnd refuses as soon as max is passed, before the peer closes", async () => {
  const reader = new StreamReader(readableFrom([Buffer.alloc(100)], { end: false }));
  await rejectsWithCode(reader.readToEnd({ max: 99 }), "BFTP_ERR_MESSAGE_TOO_LONG");
});

test("invalid lengths are coded errors", async () => {
  const reader = new StreamReader(readableFrom([]));
  await rejectsWithCode(reader.readExactly(-1), "BFTP_ERR_INVALID_ARGUMENT");
  await rejectsWithCode(reader.readExactly(1.5), "BFTP_ERR_INVALID_ARGUMENT");
  await rejectsWithCode(reader.readFrame({ maxSize: Number.NaN }), "BFTP_ERR_INVALID_ARGUMENT");
  await rejectsWithCode(reader.readUntil("\n", { max: -1 }), "BFTP_ERR_INVALID_ARGUMENT");
});

test("property: fixed records round-trip at random cuts", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 32 }),
      fc.array(fc.uint8Array({ minLength: 1, maxLength: 32 }), { maxLength: 6 }),
      fc.array(fc.nat(200), { maxLength: 8 }),
      async (size, raw, cuts) => {
        // Payloads must fit and must not end in the pad byte (documented limitation of trimming).
        const payloads = raw
          .map((p) => Buffer.from(p.subarray(0, size)))
          .filter((p) => p.at(-1) !== 0);
        const wire = Buffer.concat(payloads.map((p) => encodeFixedRecord(p, size)));
        const reader = new StreamReader(readableFrom(cutAt(wire, cuts)));
        for (const p of payloads)
          assert.deepEqual(await reader.readFixedRecord(size, { pad: 0 }), p);
        assert.equal(reader.buffered, 0);
      },
    ),
  );
});
