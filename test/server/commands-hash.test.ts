import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { after, before, test } from "node:test";
import { assertError } from "../helpers/assert-reply.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";
import { ProtocolConnection } from "../helpers/protocol-connection.js";

// PROTOCOL.md §8.10 HASH: the SHA-256 of a file or a range, the digits sha256sum prints.

const DATA = randomBytes(3 * 1024 * 1024 + 321); // several of the server's 1 MiB reads

let srv: TestServer;
let conn: ProtocolConnection;

before(async () => {
  srv = await startServer();
  await srv.files.write("data.bin", DATA);
  await srv.files.write("empty", "");
  await srv.files.write("abc.txt", "abc");
  await srv.files.mkdir("dir");
  conn = await ProtocolConnection.open(srv.port);
});

after(async () => {
  conn.close();
  await srv.stop();
});

/** The file's version token as HASH reports it (§8.10). */
async function versionAt(name: string): Promise<string> {
  return srv.files.version(name);
}

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

test("HASH of a whole file is its SHA-256 in lowercase hex, with the range it covers", async () => {
  assert.deepEqual(await conn.request({ op: "HASH", path: "/abc.txt" }), {
    ok: true,
    alg: "sha256",
    // sha256sum of "abc" (FIPS 180-2's first example).
    value: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    offset: 0,
    length: 3,
    version: await versionAt("abc.txt"),
  });
  assert.deepEqual(await conn.request({ op: "HASH", path: "data.bin", alg: "sha256", tag: 3 }), {
    ok: true,
    alg: "sha256",
    value: sha256(DATA),
    offset: 0,
    length: DATA.length,
    version: await versionAt("data.bin"),
    tag: 3,
  });
});

test("HASH of a range is the SHA-256 of those bytes", async () => {
  for (const [offset, length] of [
    [0, 1],
    [0, 1024 * 1024],
    [1024 * 1024 - 1, 2],
    [12_345, 2 * 1024 * 1024],
    [DATA.length - 1, 1],
  ] as const) {
    assert.deepEqual(await conn.request({ op: "HASH", path: "/data.bin", offset, length }), {
      ok: true,
      alg: "sha256",
      value: sha256(DATA.subarray(offset, offset + length)),
      offset,
      length,
      version: await versionAt("data.bin"),
    });
  }
});

test("HASH from an offset covers the rest of the file", async () => {
  const offset = 2 * 1024 * 1024 + 5;
  assert.deepEqual(await conn.request({ op: "HASH", path: "/data.bin", offset }), {
    ok: true,
    alg: "sha256",
    value: sha256(DATA.subarray(offset)),
    offset,
    length: DATA.length - offset,
    version: await versionAt("data.bin"),
  });
});

test("HASH of an empty range or an empty file is the SHA-256 of nothing", async () => {
  const nothing = sha256(Buffer.alloc(0));
  for (const request of [
    { op: "HASH", path: "/empty" },
    { op: "HASH", path: "/data.bin", offset: DATA.length },
    { op: "HASH", path: "/data.bin", offset: 10, length: 0 },
  ]) {
    const reply = await conn.request(request);
    assert.equal(reply["value"], nothing);
    assert.equal(reply["length"], 0);
  }
});

test("HASH agrees with the bytes GET sends (the check before a resumed download, §10)", async () => {
  const k = 1_000_000;
  const { data } = await conn.get("/data.bin", { length: k });
  const reply = await conn.request({ op: "HASH", path: "/data.bin", offset: 0, length: k });
  assert.equal(reply["value"], sha256(data ?? Buffer.alloc(0)));
});

test("HASH of a range outside the file is BFTP_ERR_BAD_RANGE", async () => {
  for (const range of [
    { offset: 4 },
    { length: 4 },
    { offset: 2, length: 2 },
    { offset: -1 },
    { length: 2.5 },
  ]) {
    assertError(
      await conn.request({ op: "HASH", path: "/abc.txt", ...range }),
      "BFTP_ERR_BAD_RANGE",
    );
  }
});

test("HASH of a directory is BFTP_ERR_IS_A_DIRECTORY, of a missing file BFTP_ERR_NOT_FOUND", async () => {
  assertError(await conn.request({ op: "HASH", path: "/dir" }), "BFTP_ERR_IS_A_DIRECTORY");
  assertError(await conn.request({ op: "HASH", path: "/" }), "BFTP_ERR_IS_A_DIRECTORY");
  assertError(await conn.request({ op: "HASH", path: "/nope" }), "BFTP_ERR_NOT_FOUND");
  assertError(await conn.request({ op: "HASH", path: "/../x" }), "BFTP_ERR_PATH_REFUSED");
});

test("HASH with an algorithm other than sha256 is BFTP_ERR_BAD_REQUEST", async () => {
  for (const alg of ["crc32", "md5", "SHA256", 256]) {
    assertError(await conn.request({ op: "HASH", path: "/abc.txt", alg }), "BFTP_ERR_BAD_REQUEST");
  }
});
