import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import { after, before, test } from "node:test";
import { assertError, assertOk } from "../helpers/assert-reply.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";
import { ProtocolConnection, crc32, type Body } from "../helpers/protocol-connection.js";

// PROTOCOL.md §7.3 and §8.8 PUT: atomic commit, no-clobber, integrity, and a refused PUT's
// data phase read and discarded so the connection stays in step.

const CHUNK = 64 * 1024;

/** Run again against the S3 backend by test/server/s3-sessions.test.ts. */
const onS3 = process.env["BFTP_TEST_BACKEND"] === "s3";

let srv: TestServer;
let conn: ProtocolConnection;

before(async () => {
  srv = await startServer({ maxChunk: CHUNK });
  await srv.files.mkdir("dir");
  conn = await ProtocolConnection.open(srv.port);
});

after(async () => {
  conn.close();
  await srv.stop();
});

/** The stored file (on S3 the object); a missing one rejects with code ENOENT. */
const onDisk = (name: string): Promise<Buffer> => srv.files.read(name);

/** The server's temporary files anywhere under the root (on S3: unfinished uploads). */
const leftovers = (): Promise<string[]> => srv.files.leftovers();

/** PUT in frames of at most maxChunk, with a correct trailer or the one given. */
async function put(
  pathName: string,
  data: Buffer,
  fields: object = {},
  trailer?: object,
  on = conn,
): Promise<Body> {
  await on.send({ op: "PUT", path: pathName, ...fields });
  await on.sendData(data, trailer === undefined ? { chunk: CHUNK } : { chunk: CHUNK, trailer });
  return on.reply();
}

function putWithTrailer(
  pathName: string,
  data: Buffer,
  trailer: object,
  fields: object = {},
): Promise<Body> {
  return put(pathName, data, fields, trailer);
}

/** The connection is still in step: a request right after gets its own reply. */
async function assertInStep(): Promise<void> {
  assert.deepEqual(await conn.request({ op: "NOOP", tag: "in-step" }), {
    ok: true,
    tag: "in-step",
  });
}

test("PUT of a new file commits it and replies its size and checksum (§12.3)", async () => {
  const reply = await put("/copy.txt", Buffer.from("hello world"));
  assert.deepEqual(reply, { ok: true, size: 11, checksum: { alg: "crc32", value: "0d4a1185" } });
  assert.equal((await onDisk("copy.txt")).toString(), "hello world");
  assert.deepEqual(await leftovers(), []);
});

test("PUT of many frames, with a SHA-256 trailer", async () => {
  const data = randomBytes(10 * CHUNK + 17);
  const sha = createHash("sha256").update(data).digest("hex");
  const reply = await putWithTrailer(
    "/dir/big.bin",
    data,
    { ok: true, checksum: { alg: "sha256", value: sha } },
    { checksum: "sha256", size: data.length },
  );
  assert.deepEqual(reply, { ok: true, size: data.length, checksum: { alg: "sha256", value: sha } });
  assert.ok((await onDisk("dir/big.bin")).equals(data));
});

test("PUT of an empty file: no data frame, just the terminator and trailer", async () => {
  const reply = await put("/empty.txt", Buffer.alloc(0), { size: 0 });
  assert.deepEqual(reply, { ok: true, size: 0, checksum: { alg: "crc32", value: "00000000" } });
  assert.equal((await onDisk("empty.txt")).length, 0);
});

test("PUT onto an existing file without overwrite is BFTP_ERR_EXISTS, data drained", async () => {
  await srv.files.write("keep.txt", "original");
  assertError(await put("/keep.txt", randomBytes(3 * CHUNK)), "BFTP_ERR_EXISTS");
  assertError(await put("keep.txt", Buffer.from("x"), { overwrite: false }), "BFTP_ERR_EXISTS");
  await assertInStep();
  assert.equal((await onDisk("keep.txt")).toString(), "original");
  assert.deepEqual(await leftovers(), []);
});

test("PUT with overwrite replaces an existing file, and creates a missing one", async () => {
  await srv.files.write("replace.txt", "old content, longer than the new");
  assert.deepEqual(await put("/replace.txt", Buffer.from("new"), { overwrite: true }), {
    ok: true,
    size: 3,
    checksum: { alg: "crc32", value: crc32(Buffer.from("new")) },
  });
  assert.equal((await onDisk("replace.txt")).toString(), "new");
  assertOk(await put("/fresh.txt", Buffer.from("fresh"), { overwrite: true }));
  assert.equal((await onDisk("fresh.txt")).toString(), "fresh");
});

test("PUT with a wrong trailer checksum is BFTP_ERR_CHECKSUM_MISMATCH and commits nothing", async () => {
  await srv.files.write("target.txt", "unchanged");
  const data = randomBytes(2 * CHUNK);
  const wrong = { ok: true, checksum: { alg: "crc32", value: "deadbeef" } };
  assertError(
    await putWithTrailer("/target.txt", data, wrong, { overwrite: true }),
    "BFTP_ERR_CHECKSUM_MISMATCH",
  );
  assertError(await putWithTrailer("/new.txt", data, wrong), "BFTP_ERR_CHECKSUM_MISMATCH");
  // A trailer in another algorithm than the request asked for cannot match either.
  assertError(
    await putWithTrailer(
      "/new.txt",
      data,
      { ok: true, checksum: { alg: "crc32", value: crc32(data) } },
      { checksum: "sha256" },
    ),
    "BFTP_ERR_CHECKSUM_MISMATCH",
  );
  await assertInStep();
  assert.equal((await onDisk("target.txt")).toString(), "unchanged");
  await assert.rejects(onDisk("new.txt"), { code: "ENOENT" });
  assert.deepEqual(await leftovers(), []);
});

test("PUT whose data differs from the announced size is BFTP_ERR_SIZE_MISMATCH", async () => {
  const data = Buffer.from("twelve bytes");
  assertError(await put("/sized.txt", data, { size: 13 }), "BFTP_ERR_SIZE_MISMATCH");
  assertError(await put("/sized.txt", data, { size: 11 }), "BFTP_ERR_SIZE_MISMATCH");
  assertError(await put("/sized.txt", data, { size: 0 }), "BFTP_ERR_SIZE_MISMATCH");
  await assertInStep();
  await assert.rejects(onDisk("sized.txt"), { code: "ENOENT" });
  assert.deepEqual(await leftovers(), []);
  assertOk(await put("/sized.txt", data, { size: 12 }));
});

test("PUT ended by the client's error trailer is BFTP_ERR_TRANSFER_ABORTED, nothing committed (§12.4)", async () => {
  const abort: Body = {
    ok: false,
    error: { code: "BFTP_ERR_TRANSFER_ABORTED", status: 422, message: "cancelled" },
  };
  assertError(
    await putWithTrailer("/big.bin", randomBytes(CHUNK), abort),
    "BFTP_ERR_TRANSFER_ABORTED",
  );
  await srv.files.write("old.txt", "old");
  assertError(
    await putWithTrailer("/old.txt", Buffer.from("half"), abort, { overwrite: true }),
    "BFTP_ERR_TRANSFER_ABORTED",
  );
  await assertInStep();
  await assert.rejects(onDisk("big.bin"), { code: "ENOENT" });
  assert.equal((await onDisk("old.txt")).toString(), "old");
  assert.deepEqual(await leftovers(), []);
});

test("regression: a client's error trailer with any code is reported as BFTP_ERR_TRANSFER_ABORTED", async () => {
  // The code in the client's trailer describes the client's side (its disk failed, the user
  // cancelled); the server's reply must not claim a server fault or a full server disk.
  for (const [code, status] of [
    ["BFTP_ERR_INTERNAL", 500],
    ["BFTP_ERR_NO_SPACE", 507],
    ["BFTP_ERR_NOT_FOUND", 404],
    ["CLIENT_SPECIFIC_CODE", 499],
  ] as const) {
    const trailer = { ok: false, error: { code, status, message: "gave up" } };
    const reply = await putWithTrailer("/given-up.bin", Buffer.from("abc"), trailer);
    assertError(reply, "BFTP_ERR_TRANSFER_ABORTED");
  }
  await assert.rejects(onDisk("given-up.bin"), { code: "ENOENT" });
  assert.deepEqual(await leftovers(), []);
});

test("PUT to a directory is BFTP_ERR_IS_A_DIRECTORY, with or without overwrite", async () => {
  assertError(await put("/dir", Buffer.from("x")), "BFTP_ERR_IS_A_DIRECTORY");
  assertError(await put("/dir/", Buffer.from("x"), { overwrite: true }), "BFTP_ERR_IS_A_DIRECTORY");
  assertError(await put("/", Buffer.from("x"), { overwrite: true }), "BFTP_ERR_IS_A_DIRECTORY");
  await assertInStep();
  assert.ok(await srv.files.isDir("dir"));
});

test("PUT into a missing directory is BFTP_ERR_NOT_FOUND, data drained", async () => {
  assertError(await put("/no/such/dir.txt", randomBytes(CHUNK + 1)), "BFTP_ERR_NOT_FOUND");
  await assertInStep();
});

test("PUT to a reserved or escaping path is BFTP_ERR_PATH_REFUSED, data drained", async () => {
  for (const bad of ["/.bftp-part-1", "/dir/.bftp-resume-x", "../out.txt", "a\\b.txt"]) {
    assertError(await put(bad, Buffer.from("x")), "BFTP_ERR_PATH_REFUSED");
  }
  await assertInStep();
  assert.deepEqual(await fs.readdir(srv.outside), []);
});

test("PUT with mtime sets the committed file's modification time", async () => {
  const mtime = 1_700_000_000_500; // half a second: exact in binary
  assertOk(await put("/dated.txt", Buffer.from("dated"), { mtime }));
  assert.equal(await srv.files.mtime("dated.txt"), mtime);
  const stat = await conn.request({ op: "STAT", path: "/dated.txt" });
  assert.equal((stat["entry"] as { mtime: number }).mtime, mtime);
});

test("PUT with an offset but without resumable is BFTP_ERR_BAD_RANGE, data drained", async () => {
  assertError(await put("/offset.txt", Buffer.from("rest"), { offset: 4 }), "BFTP_ERR_BAD_RANGE");
  assertError(
    await put("/offset.txt", Buffer.from("rest"), { offset: 4, resumable: false }),
    "BFTP_ERR_BAD_RANGE",
  );
  await assertInStep();
  await assert.rejects(onDisk("offset.txt"), { code: "ENOENT" });
});

test(
  "two uploads racing for one new name: exactly one wins, the other is BFTP_ERR_EXISTS",
  {
    skip:
      onS3 &&
      "an object store has no atomic create-if-absent: both racers may commit (docs/scale-out.md)",
  },
  async () => {
    const other = await ProtocolConnection.open(srv.port);
    try {
      const a = randomBytes(4 * CHUNK);
      const b = randomBytes(4 * CHUNK);
      const [ra, rb] = await Promise.all([
        put("/race.bin", a),
        put("/race.bin", b, {}, undefined, other),
      ]);
      const winners = [ra, rb].filter((r) => r.ok);
      assert.equal(winners.length, 1, JSON.stringify([ra, rb]));
      const loser = ra.ok ? rb : ra;
      assertError(loser, "BFTP_ERR_EXISTS");
      assert.ok((await onDisk("race.bin")).equals(ra.ok ? a : b));
      assert.deepEqual(await leftovers(), []);
    } finally {
      other.close();
    }
  },
);
