import assert from "node:assert/strict";
import fs from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import type { ErrorCode } from "../../src/errors.js";
import { assertError, assertOk } from "../helpers/assert-reply.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";
import { ProtocolConnection, type Body } from "../helpers/protocol-connection.js";

// PROTOCOL.md §8 "Integers" (issue 11): which JSON numbers are integers, and which code each
// bad form gets. Requests are written as raw JSON text, since the spellings (1.0, 1e1, -0)
// are what is checked and JSON.stringify would normalise them.
let served: TestServer;
let conn: ProtocolConnection;

before(async () => {
  served = await startServer();
  await fs.writeFile(path.join(served.root, "f.txt"), "hello world"); // 11 bytes
  conn = await ProtocolConnection.open(served.port);
});

after(async () => {
  conn.close();
  await served.stop();
});

/** Sends one request frame written as JSON text; returns the reply (reading a GET's data). */
async function raw(json: string): Promise<Body> {
  await conn.sendRaw(Buffer.concat([frameHeader(json), Buffer.from(json)]));
  const reply = await conn.reply();
  if (reply.ok && json.includes('"op":"GET"')) await conn.readData();
  return reply;
}

function frameHeader(json: string): Buffer {
  return Buffer.from(Buffer.byteLength(json).toString(16).padStart(8, "0"));
}

/** A PUT written as JSON text, with an empty data phase; returns its reply. */
async function rawPut(json: string): Promise<Body> {
  await conn.sendRaw(Buffer.concat([frameHeader(json), Buffer.from(json)]));
  await conn.sendData(Buffer.alloc(0));
  return conn.reply();
}

test("1.0, 1e1 and -0 are the integers 1, 10 and 0: the value counts, not the spelling", async () => {
  const one = await raw('{"op":"GET","path":"/f.txt","offset":1.0,"length":1e1}');
  assertOk(one);
  assert.equal(one["offset"], 1);
  assert.equal(one["length"], 10);
  const zero = await raw('{"op":"HASH","path":"/f.txt","offset":-0,"length":0}');
  assertOk(zero);
  assert.equal(zero["offset"], 0);
  // A number that rounds to a whole double is that whole number.
  assertOk(await raw('{"op":"GET","path":"/f.txt","offset":1.0000000000000001}'));
});

test("2^53 - 1 is an integer (here: outside the file); 2^53 and beyond are not", async () => {
  // A valid integer past the end of the file: a range outside it.
  assertError(
    await raw('{"op":"GET","path":"/f.txt","offset":9007199254740991}'),
    "BFTP_ERR_BAD_RANGE",
  );
  assertError(
    await rawPut('{"op":"PUT","path":"/a","size":9007199254740991}'),
    "BFTP_ERR_SIZE_MISMATCH",
  );
  // Not integers: the PUT's size shows the difference, since it is not a range field.
  for (const big of ["9007199254740992", "9007199254740993", "1e400"]) {
    assertError(await rawPut(`{"op":"PUT","path":"/a","size":${big}}`), "BFTP_ERR_BAD_REQUEST");
  }
});

test("a JSON number that is not an integer, in offset or length, is BAD_RANGE", async () => {
  const requests = [
    (v: string) => `{"op":"GET","path":"/f.txt","offset":${v}}`,
    (v: string) => `{"op":"GET","path":"/f.txt","length":${v}}`,
    (v: string) => `{"op":"HASH","path":"/f.txt","offset":${v}}`,
    (v: string) => `{"op":"HASH","path":"/f.txt","length":${v}}`,
  ];
  for (const request of requests) {
    for (const bad of ["-1", "1.5", "0.0000000000000001", "9007199254740992", "1e400"]) {
      assertError(await raw(request(bad)), "BFTP_ERR_BAD_RANGE");
    }
  }
  assertError(
    await rawPut('{"op":"PUT","path":"/a","offset":1.5,"resumable":true}'),
    "BFTP_ERR_BAD_RANGE",
  );
});

test("a value that is not a JSON number, in offset or length, is BAD_REQUEST", async () => {
  for (const bad of ['"1"', "true", "null", "[1]", "{}"]) {
    assertError(await raw(`{"op":"GET","path":"/f.txt","offset":${bad}}`), "BFTP_ERR_BAD_REQUEST");
    assertError(await raw(`{"op":"HASH","path":"/f.txt","length":${bad}}`), "BFTP_ERR_BAD_REQUEST");
  }
});

test("any bad value in another integer field (PUT's size, mtime) is BAD_REQUEST", async () => {
  const cases: [string, ErrorCode][] = [
    ['{"op":"PUT","path":"/b","size":-1}', "BFTP_ERR_BAD_REQUEST"],
    ['{"op":"PUT","path":"/b","size":1.5}', "BFTP_ERR_BAD_REQUEST"],
    ['{"op":"PUT","path":"/b","size":"0"}', "BFTP_ERR_BAD_REQUEST"],
    ['{"op":"PUT","path":"/b","mtime":-1}', "BFTP_ERR_BAD_REQUEST"],
    ['{"op":"PUT","path":"/b","mtime":true}', "BFTP_ERR_BAD_REQUEST"],
    ['{"op":"PUT","path":"/b","mtime":null}', "BFTP_ERR_BAD_REQUEST"],
  ];
  for (const [request, code] of cases) assertError(await rawPut(request), code);
  // And 1.0 there is the integer 1: an empty upload announced as one byte.
  assertError(await rawPut('{"op":"PUT","path":"/b","size":1.0}'), "BFTP_ERR_SIZE_MISMATCH");
  await assert.rejects(fs.stat(path.join(served.root, "b")), { code: "ENOENT" });
});

test("tag: a negative integer is echoed; a fraction, 2^53 or a long string is BAD_REQUEST with no tag", async () => {
  const echoed = await raw('{"op":"NOOP","tag":-9007199254740991}');
  assertOk(echoed);
  assert.equal(echoed["tag"], -9007199254740991);
  for (const bad of ["1.5", "9007199254740992", "true", `"${"x".repeat(65)}"`]) {
    const reply = await raw(`{"op":"NOOP","tag":${bad}}`);
    assertError(reply, "BFTP_ERR_BAD_REQUEST");
    assert.equal("tag" in reply, false, JSON.stringify(reply));
  }
});

test("none of these refusals is fatal: the connection is still in step", async () => {
  const reply = await raw('{"op":"NOOP","tag":"still here"}');
  assertOk(reply);
  assert.equal(reply["tag"], "still here");
  assert.equal(reply["close"], undefined);
});
