import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { assertError, assertOk } from "../helpers/assert-reply.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";
import { ProtocolConnection, crc32 } from "../helpers/protocol-connection.js";

// PROTOCOL.md §8.7 GET and §9: the reply, exactly `length` bytes from `offset`, a trailer with
// the checksum of those bytes.

const CHUNK = 64 * 1024;
const BIG = randomBytes(5 * CHUNK + 123);

/** Run again against the S3 backend by test/server/s3-sessions.test.ts. */
const onS3 = process.env["BFTP_TEST_BACKEND"] === "s3";

let srv: TestServer;
let conn: ProtocolConnection;
const mtimeOf = (name: string): Promise<number> => srv.files.mtime(name);
/** The file's version token as GET and HASH report it (§8.7). */
const versionAt = (name: string): Promise<string> => srv.files.version(name);

before(async () => {
  srv = await startServer({ maxChunk: CHUNK });
  await srv.files.write("hello.txt", "hello world");
  await srv.files.write("big.bin", BIG);
  await srv.files.write("empty", "");
  await srv.files.mkdir("dir");
  await fs.writeFile(path.join(srv.outside, "canary.txt"), "secret");
  if (!onS3) {
    await fs.symlink(path.join(srv.outside, "canary.txt"), path.join(srv.root, "escape-link"));
    await fs.symlink("hello.txt", path.join(srv.root, "hello-link"));
  }
  conn = await ProtocolConnection.open(srv.port);
});

after(async () => {
  conn.close();
  await srv.stop();
});

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

test("GET of a whole file: the reply fields, the bytes and the CRC-32 trailer (§12.2)", async () => {
  const { reply, data, trailer } = await conn.get("/hello.txt");
  assert.deepEqual(reply, {
    ok: true,
    size: 11,
    mtime: await mtimeOf("hello.txt"),
    offset: 0,
    length: 11,
    version: await versionAt("hello.txt"),
  });
  assert.equal(data?.toString(), "hello world");
  assert.deepEqual(trailer, { ok: true, checksum: { alg: "crc32", value: "0d4a1185" } });
});

test("GET of a file larger than maxChunk sends frames of at most maxChunk bytes", async () => {
  const reply = await conn.request({ op: "GET", path: "big.bin" });
  assertOk(reply);
  assert.equal(reply["size"], BIG.length);
  const { data, frames, trailer } = await conn.readData();
  assert.ok(frames.length >= 6);
  for (const frame of frames) assert.ok(frame.length > 0 && frame.length <= CHUNK);
  assert.ok(data.equals(BIG));
  assert.deepEqual(trailer, { ok: true, checksum: { alg: "crc32", value: crc32(BIG) } });
});

test("GET from an offset sends the rest of the file", async () => {
  const offset = 2 * CHUNK + 7;
  const { reply, data, trailer } = await conn.get("/big.bin", { offset });
  assert.deepEqual(reply, {
    ok: true,
    size: BIG.length,
    mtime: await mtimeOf("big.bin"),
    offset,
    length: BIG.length - offset,
    version: await versionAt("big.bin"),
  });
  const slice = BIG.subarray(offset);
  assert.ok(data?.equals(slice));
  assert.deepEqual(trailer, { ok: true, checksum: { alg: "crc32", value: crc32(slice) } });
});

test("GET of a range sends that slice, with the checksum of the slice", async () => {
  for (const [offset, length] of [
    [0, 1],
    [1000, CHUNK],
    [CHUNK - 1, 2],
    [BIG.length - 10, 10],
  ] as const) {
    const { reply, data, trailer } = await conn.get("/big.bin", { offset, length });
    assertOk(reply);
    assert.equal(reply["offset"], offset);
    assert.equal(reply["length"], length);
    assert.equal(reply["size"], BIG.length);
    const slice = BIG.subarray(offset, offset + length);
    assert.ok(data?.equals(slice), `range ${offset}+${length}`);
    assert.deepEqual(trailer, { ok: true, checksum: { alg: "crc32", value: crc32(slice) } });
  }
});

test("GET with offset = size sends no bytes (the end of a completed resume)", async () => {
  const { reply, data, trailer } = await conn.get("/hello.txt", { offset: 11 });
  assert.deepEqual(reply, {
    ok: true,
    size: 11,
    mtime: await mtimeOf("hello.txt"),
    offset: 11,
    length: 0,
    version: await versionAt("hello.txt"),
  });
  assert.equal(data?.length, 0);
  assert.deepEqual(trailer, { ok: true, checksum: { alg: "crc32", value: "00000000" } });
  const zero = await conn.get("/hello.txt", { offset: 3, length: 0 });
  assert.equal(zero.reply["length"], 0);
  assert.equal(zero.data?.length, 0);
});

test("GET of an empty file is a data phase with no data frame", async () => {
  const reply = await conn.request({ op: "GET", path: "/empty" });
  assert.equal(reply["size"], 0);
  assert.equal(reply["length"], 0);
  const { frames, trailer } = await conn.readData();
  assert.equal(frames.length, 0);
  assert.deepEqual(trailer, { ok: true, checksum: { alg: "crc32", value: "00000000" } });
});

test('GET with checksum "sha256" ends with a SHA-256 trailer', async () => {
  const whole = await conn.get("/big.bin", { checksum: "sha256" });
  assert.deepEqual(whole.trailer, { ok: true, checksum: { alg: "sha256", value: sha256(BIG) } });
  const range = await conn.get("/big.bin", { offset: 10, length: 100, checksum: "sha256" });
  assert.deepEqual(range.trailer, {
    ok: true,
    checksum: { alg: "sha256", value: sha256(BIG.subarray(10, 110)) },
  });
  const crc = await conn.get("/hello.txt", { checksum: "crc32" });
  assert.deepEqual(crc.trailer, { ok: true, checksum: { alg: "crc32", value: "0d4a1185" } });
});

test("GET with offset > size, or offset + length > size, is BFTP_ERR_BAD_RANGE, no data phase", async () => {
  for (const range of [
    { offset: 12 },
    { offset: 0, length: 12 },
    { offset: 11, length: 1 },
    { offset: 5, length: 7 },
    { offset: Number.MAX_SAFE_INTEGER },
    { length: Number.MAX_SAFE_INTEGER },
  ]) {
    assertError((await conn.get("/hello.txt", range)).reply, "BFTP_ERR_BAD_RANGE");
  }
  assert.deepEqual(await conn.request({ op: "NOOP", tag: "after" }), { ok: true, tag: "after" });
});

test("regression: a negative or fractional GET offset or length is BFTP_ERR_BAD_RANGE (§5.3)", async () => {
  for (const range of [{ offset: -1 }, { offset: 1.5 }, { length: -3 }, { length: 0.5 }]) {
    assertError((await conn.get("/hello.txt", range)).reply, "BFTP_ERR_BAD_RANGE");
  }
  assertOk(await conn.request({ op: "NOOP" }));
});

test("GET of a directory is BFTP_ERR_IS_A_DIRECTORY", async () => {
  assertError((await conn.get("/dir")).reply, "BFTP_ERR_IS_A_DIRECTORY");
  assertError((await conn.get("/")).reply, "BFTP_ERR_IS_A_DIRECTORY");
});

test("GET of a missing file is BFTP_ERR_NOT_FOUND", async () => {
  assertError((await conn.get("/nope.txt")).reply, "BFTP_ERR_NOT_FOUND");
  assertError((await conn.get("/dir/nope.txt")).reply, "BFTP_ERR_NOT_FOUND");
});

test(
  "GET follows a link inside the root and refuses one that leads out",
  { skip: onS3 && "an object store has no symbolic links" },
  async () => {
    const inside = await conn.get("/hello-link");
    assert.equal(inside.data?.toString(), "hello world");
    assertError((await conn.get("/escape-link")).reply, "BFTP_ERR_PATH_REFUSED");
    assertError((await conn.get("../outside/canary.txt")).reply, "BFTP_ERR_PATH_REFUSED");
  },
);

test("GET sends the file as it was when it began, even if a PUT replaces it meanwhile", async () => {
  const original = randomBytes(8 * 1024 * 1024);
  await srv.files.write("snapshot.bin", original);
  const reply = await conn.request({ op: "GET", path: "/snapshot.bin" });
  assertOk(reply);
  // The download is stalled on the unread socket; replace the file from another connection.
  const other = await ProtocolConnection.open(srv.port);
  try {
    assertOk(await other.put("/snapshot.bin", Buffer.from("replaced"), { overwrite: true }));
  } finally {
    other.close();
  }
  const { data, trailer } = await conn.readData();
  assert.ok(data.equals(original));
  assert.deepEqual(trailer, { ok: true, checksum: { alg: "crc32", value: crc32(original) } });
  assert.equal(await srv.files.text("snapshot.bin"), "replaced");
});
