import assert from "node:assert/strict";
import fs from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { encodeFrame, writeAll } from "../../src/wire/index.js";
import { assertError, assertOk } from "../helpers/assert-reply.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";
import { ProtocolConnection, crc32 } from "../helpers/protocol-connection.js";

// PROTOCOL.md §7.2 and §8.12 ABORT: an ABORT waiting behind a running download stops it with
// a BFTP_ERR_TRANSFER_ABORTED trailer, then replies aborted: true; otherwise aborted: false.

const HUGE = 64 * 1024 * 1024;
const MEDIUM = 3 * 1024 * 1024 + 17;
const LISTED = 800;

let srv: TestServer;
let conn: ProtocolConnection;

before(async () => {
  srv = await startServer();
  if (process.env["BFTP_TEST_BACKEND"] === "s3") {
    await srv.files.write("huge.bin", Buffer.alloc(HUGE)); // an object store has no sparse files
  } else {
    // Sparse: 64 MiB of zeros that cost no disk writes.
    const huge = await fs.open(path.join(srv.root, "huge.bin"), "w");
    await huge.truncate(HUGE);
    await huge.close();
  }
  await srv.files.write("medium.bin", Buffer.alloc(MEDIUM, 0x5a));
  await srv.files.mkdir("many");
  await Promise.all(
    // Long names: a few hundred entries fill several 64 KiB LIST frames.
    Array.from({ length: LISTED }, (_, i) => srv.files.write(`many/${"f".repeat(200)}-${i}`, "")),
  );
  conn = await ProtocolConnection.open(srv.port);
});

after(async () => {
  conn.close();
  await srv.stop();
});

const frame = (request: object): Buffer => encodeFrame(JSON.stringify(request));

test("ABORT with nothing running replies aborted: false", async () => {
  assert.deepEqual(await conn.request({ op: "ABORT" }), { ok: true, aborted: false });
  assert.deepEqual(await conn.request({ op: "ABORT", tag: 5 }), {
    ok: true,
    aborted: false,
    tag: 5,
  });
});

test("ABORT right behind a GET of 64 MiB ends the data phase early, then replies aborted: true", async () => {
  // Both requests leave before a byte of the reply is read: the server is still sending.
  await writeAll(conn.socket, [
    frame({ op: "GET", path: "/huge.bin", tag: "get" }),
    frame({ op: "ABORT", tag: "abort" }),
  ]);
  const reply = await conn.reply();
  assertOk(reply);
  assert.equal(reply["tag"], "get");
  assert.equal(reply["length"], HUGE);
  const { data, trailer } = await conn.readData();
  assert.ok(data.length < HUGE, `${data.length} bytes arrived: the download was not stopped`);
  assert.ok(data.every((byte) => byte === 0));
  assertError(trailer, "BFTP_ERR_TRANSFER_ABORTED");
  assert.deepEqual(await conn.reply(), { ok: true, aborted: true, tag: "abort" });
  // The connection goes on, and the abort was used up.
  assert.deepEqual(await conn.request({ op: "ABORT" }), { ok: true, aborted: false });
  const after = await conn.get("/medium.bin");
  assert.equal(after.data?.length, MEDIUM);
  assertOk(after.trailer ?? { ok: false });
});

test("ABORT after a download has finished replies aborted: false", async () => {
  const { trailer } = await conn.get("/medium.bin");
  assertOk(trailer ?? { ok: false });
  assert.deepEqual(await conn.request({ op: "ABORT" }), { ok: true, aborted: false });
});

test("ABORT behind other pipelined requests runs in its turn: the GET completes", async () => {
  await writeAll(conn.socket, [
    frame({ op: "GET", path: "/medium.bin" }),
    frame({ op: "NOOP", tag: "between" }),
    frame({ op: "ABORT" }),
  ]);
  assertOk(await conn.reply());
  const { data, trailer } = await conn.readData();
  assert.equal(data.length, MEDIUM);
  assert.deepEqual(trailer, { ok: true, checksum: { alg: "crc32", value: crc32(data) } });
  assert.deepEqual(await conn.reply(), { ok: true, tag: "between" });
  assert.deepEqual(await conn.reply(), { ok: true, aborted: false });
});

test("ABORT behind a refused GET finds no download to stop", async () => {
  await writeAll(conn.socket, [frame({ op: "GET", path: "/missing" }), frame({ op: "ABORT" })]);
  assertError(await conn.reply(), "BFTP_ERR_NOT_FOUND");
  assert.deepEqual(await conn.reply(), { ok: true, aborted: false });
});

test("regression: ABORT right behind a LIST ends the listing early too (LIST is a download, §7.2)", async () => {
  await writeAll(conn.socket, [frame({ op: "LIST", path: "/many" }), frame({ op: "ABORT" })]);
  assert.deepEqual(await conn.reply(), { ok: true, path: "/many" });
  const { frames, trailer } = await conn.readData();
  assertError(trailer, "BFTP_ERR_TRANSFER_ABORTED");
  const entries = frames.flatMap((f) => JSON.parse(f.toString("utf8")) as unknown[]);
  assert.ok(entries.length < LISTED);
  assert.deepEqual(await conn.reply(), { ok: true, aborted: true });
  assert.deepEqual(await conn.request({ op: "NOOP" }), { ok: true });
});
