import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { assertError, assertOk } from "../helpers/assert-reply.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";
import { ProtocolConnection } from "../helpers/protocol-connection.js";

// PROTOCOL.md §4.1 and §5.2: a well-formed JSON object with a bad `op` or bad fields is
// refused without closing the connection; `tag` is echoed.

let srv: TestServer;
let conn: ProtocolConnection;

before(async () => {
  srv = await startServer();
  conn = await ProtocolConnection.open(srv.port);
});

after(async () => {
  conn.close();
  await srv.stop();
});

test("an unknown op is BFTP_ERR_UNKNOWN_COMMAND and the connection stays usable", async () => {
  for (const op of ["FROB", "get", "Stat", "", "X".repeat(500)]) {
    assertError(await conn.request({ op }), "BFTP_ERR_UNKNOWN_COMMAND");
  }
  assert.deepEqual(await conn.request({ op: "PWD" }), { ok: true, path: "/" });
});

test("a request without a string op is BFTP_ERR_BAD_REQUEST, not fatal", async () => {
  for (const request of [{}, { op: 1 }, { op: null }, { op: ["STAT"] }, { path: "/" }]) {
    assertError(await conn.request(request), "BFTP_ERR_BAD_REQUEST");
  }
  assertOk(await conn.request({ op: "NOOP" }));
});

test("an unknown field is BFTP_ERR_BAD_REQUEST (typos are not ignored)", async () => {
  for (const request of [
    { op: "STAT", path: "/", extra: true },
    { op: "GET", path: "/x", ofset: 3 },
    { op: "MKDIR", path: "/d", parent: true },
    { op: "RENAME", from: "/a", to: "/b", overwrites: true },
    { op: "NOOP", Tag: 1 },
  ]) {
    assertError(await conn.request(request), "BFTP_ERR_BAD_REQUEST");
  }
  assertOk(await conn.request({ op: "NOOP" }));
});

test("a missing required field is BFTP_ERR_BAD_REQUEST", async () => {
  for (const request of [
    { op: "CD" },
    { op: "STAT" },
    { op: "GET" },
    { op: "DELETE" },
    { op: "MKDIR" },
    { op: "RMDIR" },
    { op: "RENAME", from: "/a" },
    { op: "RENAME", to: "/a" },
    { op: "HASH" },
    { op: "RESUME" },
  ]) {
    assertError(await conn.request(request), "BFTP_ERR_BAD_REQUEST");
  }
});

test("a field of the wrong type is BFTP_ERR_BAD_REQUEST", async () => {
  for (const request of [
    { op: "STAT", path: 7 },
    { op: "CD", path: null },
    { op: "LIST", path: ["/"] },
    { op: "GET", path: "/x", offset: "0" },
    { op: "GET", path: "/x", checksum: "md5" },
    { op: "MKDIR", path: "/d", parents: "yes" },
    { op: "RENAME", from: "/a", to: "/b", overwrite: 1 },
    { op: "HASH", path: "/x", alg: "crc32" },
  ]) {
    assertError(await conn.request(request), "BFTP_ERR_BAD_REQUEST");
  }
  assertOk(await conn.request({ op: "NOOP" }));
});

test("a PUT refused for its fields still has its data phase read and discarded", async () => {
  await conn.send({ op: "PUT", path: "/typo.bin", overwrit: true });
  await conn.sendData(Buffer.alloc(100_000, 7), { chunk: 30_000 });
  assertError(await conn.reply(), "BFTP_ERR_BAD_REQUEST");
  await conn.send({ op: "PUT", path: "/typo.bin", checksum: "md5" });
  await conn.sendData(Buffer.from("data"));
  assertError(await conn.reply(), "BFTP_ERR_BAD_REQUEST");
  assertError(await conn.request({ op: "STAT", path: "/typo.bin" }), "BFTP_ERR_NOT_FOUND");
});

test("a string or integer tag is echoed in ok and error replies", async () => {
  assert.deepEqual(await conn.request({ op: "NOOP", tag: "a" }), { ok: true, tag: "a" });
  assert.deepEqual(await conn.request({ op: "NOOP", tag: 0 }), { ok: true, tag: 0 });
  assert.deepEqual(await conn.request({ op: "NOOP", tag: -5 }), { ok: true, tag: -5 });
  const long = "t".repeat(64);
  assert.deepEqual(await conn.request({ op: "PWD", tag: long }), {
    ok: true,
    path: "/",
    tag: long,
  });
  const missing = await conn.request({ op: "STAT", path: "/nope", tag: "s1" });
  assertError(missing, "BFTP_ERR_NOT_FOUND");
  assert.equal(missing["tag"], "s1");
  const unknown = await conn.request({ op: "FROB", tag: 42 });
  assertError(unknown, "BFTP_ERR_UNKNOWN_COMMAND");
  assert.equal(unknown["tag"], 42);
  const badField = await conn.request({ op: "STAT", path: 1, tag: "bf" });
  assertError(badField, "BFTP_ERR_BAD_REQUEST");
  assert.equal(badField["tag"], "bf");
});

test("a tag that is too long, fractional or of another type is BFTP_ERR_BAD_REQUEST", async () => {
  for (const tag of ["t".repeat(65), 1.5, true, null, { a: 1 }, [1]]) {
    assertError(await conn.request({ op: "NOOP", tag }), "BFTP_ERR_BAD_REQUEST");
  }
  assertOk(await conn.request({ op: "NOOP" }));
});

test("the tag of a data-phase reply is on the reply, not on the trailer", async () => {
  const reply = await conn.request({ op: "LIST", path: "/", tag: "ls" });
  assert.equal(reply["tag"], "ls");
  const { trailer } = await conn.readData();
  assertOk(trailer);
  assert.equal(trailer["tag"], undefined);
});
