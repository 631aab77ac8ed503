import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { StreamReader, encodeDelimited } from "../../src/wire/index.js";
import { rejectsWithCode } from "../helpers/assert-code.js";
import { cutAt, readableFrom, splits } from "../helpers/feed.js";

async function readAllLines(
  pieces: readonly Buffer[],
  delimiter: string,
  count: number,
  max = 64,
): Promise<string[]> {
  const reader = new StreamReader(readableFrom(pieces));
  const lines: string[] = [];
  for (let i = 0; i < count; i++)
    lines.push((await reader.readUntil(delimiter, { max })).toString());
  await rejectsWithCode(reader.readUntil(delimiter, { max }), "BFTP_ERR_PEER_CLOSED");
  return lines;
}

test("single-byte delimiter: whole, byte by byte and at every split point", async () => {
  const fixture = Buffer.from("PWD\n\nLIST /tmp\ncafé ✓\n");
  for (const { name, pieces } of splits(fixture)) {
    assert.deepEqual(await readAllLines(pieces, "\n", 4), ["PWD", "", "LIST /tmp", "café ✓"], name);
  }
});

test("multi-byte delimiter split across chunks, with near-misses, at every split point", async () => {
  const fixture = Buffer.from("HTTP/1.0 200 OK\r\nA: b\r\r\n\r\n\r\r\n\r\nbody\r\n\r\n");
  for (const { name, pieces } of splits(fixture)) {
    assert.deepEqual(
      await readAllLines(pieces, "\r\n\r\n", 3),
      ["HTTP/1.0 200 OK\r\nA: b\r", "\r", "body"],
      name,
    );
  }
});

test("a delimiter spread over three or more chunks is found", async () => {
  const pieces = [
    Buffer.from("abc\r"),
    Buffer.from("\n"),
    Buffer.from("\r"),
    Buffer.from("\nrest\r\n\r\n"),
  ];
  assert.deepEqual(await readAllLines(pieces, "\r\n\r\n", 2), ["abc", "rest"]);
});

test("a message longer than max fails as soon as that is certain", async () => {
  const reader = new StreamReader(
    readableFrom([Buffer.from("0123456789"), Buffer.from("abcdef\n")], { end: false }),
  );
  const err = await rejectsWithCode(
    reader.readUntil("\n", { max: 8 }),
    "BFTP_ERR_MESSAGE_TOO_LONG",
  );
  assert.equal(err.details["max"], 8);
});

test("a message of exactly max bytes is accepted; max + 1 is refused", async () => {
  for (const { name, pieces } of splits(Buffer.from("12345678\r\n"))) {
    const ok = new StreamReader(readableFrom(pieces));
    assert.equal((await ok.readUntil("\r\n", { max: 8 })).toString(), "12345678", name);
    const tooLong = new StreamReader(readableFrom(pieces));
    await rejectsWithCode(tooLong.readUntil("\r\n", { max: 7 }), "BFTP_ERR_MESSAGE_TOO_LONG");
  }
});

test("end of stream without a delimiter reports the bytes that arrived", async () => {
  const reader = new StreamReader(readableFrom([Buffer.from("partial")]));
  const err = await rejectsWithCode(reader.readUntil("\n", { max: 64 }), "BFTP_ERR_UNEXPECTED_EOF");
  assert.deepEqual(err.details, { received: 7, expected: null });
});

test("linear time: a 256 KiB message fed one byte per chunk with a 4-byte delimiter", async () => {
  // A scan that restarted at the first chunk on every arrival would do ~3e10 steps here and
  // blow the test runner's deadline; a linear one finishes in well under a second.
  const size = 256 * 1024;
  const bytes = Buffer.alloc(size + 4, "a".charCodeAt(0));
  bytes.write("\r\n\r\n", size);
  const pieces = [...bytes].map((b) => Buffer.from([b]));
  const reader = new StreamReader(readableFrom(pieces), { highWaterMark: 1 });
  assert.equal((await reader.readUntil("\r\n\r\n", { max: size })).length, size);
});

test("property: encodeDelimited then readUntil at random cuts round-trips", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom("\n", "\r\n", "\r\n\r\n", "||"),
      fc.array(fc.string({ maxLength: 40 }), { maxLength: 8 }),
      fc.array(fc.nat(400), { maxLength: 10 }),
      async (delimiter, candidates, cuts) => {
        const messages = candidates.filter(
          (m) =>
            !(m + delimiter.slice(0, -1)).includes(delimiter) && !m.includes(delimiter[0] ?? ""),
        );
        const wire = Buffer.concat(messages.map((m) => encodeDelimited(m, { delimiter })));
        assert.deepEqual(
          await readAllLines(cutAt(wire, cuts), delimiter, messages.length, 200),
          messages,
        );
      },
    ),
  );
});
