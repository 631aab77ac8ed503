import assert from "node:assert/strict";
import { test } from "node:test";
import {
  DECIMAL_SIZE_HEADER,
  StreamReader,
  decodeUtf8,
  encodeFrame,
  writeAll,
} from "../../src/wire/index.js";
import { rejectsWithCode } from "../helpers/assert-code.js";
import { readableFrom, splits } from "../helpers/feed.js";
import { socketPair } from "../helpers/socket-pair.js";

const FRAMES = ["Hello Web Wide World", "", "naïve ✓ 日本語 😀", "", "x".repeat(300)];
const FIXTURE = Buffer.concat(FRAMES.map((f) => encodeFrame(f)));

test("readFrame decodes the fixture whole, byte by byte and at every split point", async () => {
  for (const { name, pieces } of splits(FIXTURE)) {
    const reader = new StreamReader(readableFrom(pieces));
    const got: string[] = [];
    for (let i = 0; i < FRAMES.length; i++)
      got.push(decodeUtf8(await reader.readFrame({ maxSize: 300 })));
    assert.deepEqual(got, FRAMES, name);
    await rejectsWithCode(reader.readFrame({ maxSize: 300 }), "BFTP_ERR_PEER_CLOSED");
  }
});

test("readFrame with the decimal header (the classic read_string) at every split point", async () => {
  const fixture = Buffer.concat(
    ["average", "", "[1,2,3]"].map((s) => encodeFrame(s, { header: DECIMAL_SIZE_HEADER })),
  );
  for (const { name, pieces } of splits(fixture)) {
    const reader = new StreamReader(readableFrom(pieces));
    const got = [];
    for (let i = 0; i < 3; i++)
      got.push((await reader.readFrame({ maxSize: 16, header: DECIMAL_SIZE_HEADER })).toString());
    assert.deepEqual(got, ["average", "", "[1,2,3]"], name);
  }
});

test("zero-length frames are messages, not end of stream", async () => {
  const reader = new StreamReader(readableFrom([Buffer.from("000000000000000000000000")]));
  for (let i = 0; i < 3; i++) assert.equal((await reader.readFrame({ maxSize: 0 })).length, 0);
  await rejectsWithCode(reader.readFrame({ maxSize: 0 }), "BFTP_ERR_PEER_CLOSED");
});

test("a multi-byte UTF-8 character split across chunks decodes after framing", async () => {
  const frame = encodeFrame("😀"); // 4 bytes of UTF-8 after the header
  for (let cut = 9; cut < 12; cut++) {
    const reader = new StreamReader(readableFrom([frame.subarray(0, cut), frame.subarray(cut)]));
    assert.equal(decodeUtf8(await reader.readFrame({ maxSize: 4 })), "😀");
  }
});

test("peer closing mid-frame says how many bytes arrived of how many expected", async () => {
  const { client, server, close } = await socketPair();
  try {
    const reader = new StreamReader(server);
    client.end(Buffer.from("0000000aHELLO"));
    const err = await rejectsWithCode(
      reader.readFrame({ maxSize: 100 }),
      "BFTP_ERR_UNEXPECTED_EOF",
    );
    assert.deepEqual(err.details, { received: 13, expected: 18 });
  } finally {
    await close();
  }
});

test("peer closing mid-header is an unexpected EOF; closing between frames is PEER_CLOSED", async () => {
  const mid = new StreamReader(readableFrom([Buffer.from("0000")]));
  const err = await rejectsWithCode(mid.readFrame({ maxSize: 100 }), "BFTP_ERR_UNEXPECTED_EOF");
  assert.deepEqual(err.details, { received: 4, expected: 8 });
  const between = new StreamReader(readableFrom([encodeFrame("a")]));
  await between.readFrame({ maxSize: 1 });
  await rejectsWithCode(between.readFrame({ maxSize: 1 }), "BFTP_ERR_PEER_CLOSED");
});

test("a header claiming 4 GiB is refused at once, without waiting for or buffering a payload", async () => {
  const { client, server, close } = await socketPair();
  try {
    const reader = new StreamReader(server);
    const before = process.memoryUsage().arrayBuffers;
    // Only the header is sent and the connection stays open: a reader that tried to
    // allocate or wait for the payload would hang here until the test's deadline.
    await writeAll(client, Buffer.from("ffffffff"));
    const err = await rejectsWithCode(
      reader.readFrame({ maxSize: 1 << 20, timeout: 10_000 }),
      "BFTP_ERR_FRAME_TOO_LARGE",
    );
    assert.deepEqual(err.details, { size: 0xffffffff, max: 1 << 20 });
    assert.equal(reader.buffered, 0);
    assert.ok(
      process.memoryUsage().arrayBuffers - before < 16 << 20,
      "no payload-sized allocation",
    );
  } finally {
    await close();
  }
});

test("after FRAME_TOO_LARGE the caller can skip the payload and stay in step", async () => {
  const wire = Buffer.concat([encodeFrame("x".repeat(50)), encodeFrame("next")]);
  for (const { name, pieces } of splits(wire)) {
    const reader = new StreamReader(readableFrom(pieces));
    const err = await rejectsWithCode(
      reader.readFrame({ maxSize: 10 }),
      "BFTP_ERR_FRAME_TOO_LARGE",
    );
    await reader.skip(Number(err.details["size"]));
    assert.equal((await reader.readFrame({ maxSize: 10 })).toString(), "next", name);
  }
});

test("a bad header is a coded error", async () => {
  const reader = new StreamReader(readableFrom([Buffer.from("GET / HTTP/1.0\r\n\r\n")]));
  const err = await rejectsWithCode(
    reader.readFrame({ maxSize: 100 }),
    "BFTP_ERR_BAD_FRAME_HEADER",
  );
  assert.equal(err.details["header"], JSON.stringify("GET / HT"));
});

test("frames written in one send arrive as separate messages over a real socket", async () => {
  const { client, server, close } = await socketPair();
  try {
    const reader = new StreamReader(server);
    await writeAll(
      client,
      Buffer.concat([encodeFrame("one"), encodeFrame("two"), encodeFrame("three")]),
    );
    const got = [];
    for (let i = 0; i < 3; i++) got.push((await reader.readFrame({ maxSize: 5 })).toString());
    assert.deepEqual(got, ["one", "two", "three"]);
  } finally {
    await close();
  }
});
