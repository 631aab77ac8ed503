import assert from "node:assert/strict";
import fs from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { assertError, assertOk } from "../helpers/assert-reply.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";
import { ProtocolConnection, crc32, type Body } from "../helpers/protocol-connection.js";

// PROTOCOL.md §7.1 (what a trailer must contain, and what the server does with each kind),
// §4.1 (`close`), §5.2 and §11 (oversized data frames and stalled uploads are fatal): issue 11.
const DATA = Buffer.from("abc");
const CRC = crc32(DATA); // 352441c2
let served: TestServer;

before(async () => {
  served = await startServer({ stallTimeoutMs: 300 });
});

after(async () => {
  await served.stop();
});

/** Uploads DATA to `name` with `trailer` on a fresh connection; the reply, and the connection. */
async function upload(
  name: string,
  trailer: unknown,
  fields: object = {},
): Promise<{ reply: Body; conn: ProtocolConnection }> {
  const conn = await ProtocolConnection.open(served.port);
  await conn.send({ op: "PUT", path: `/${name}`, ...fields });
  await conn.sendData(DATA, { trailer: trailer as object });
  return { reply: await conn.reply(), conn };
}

/** Asserts the reply is fatal: the code, `close: true`, and the server closes. */
async function assertFatal(
  reply: Body,
  conn: ProtocolConnection,
  code: Parameters<typeof assertError>[1],
): Promise<void> {
  assertError(reply, code);
  assert.equal(reply["close"], true, JSON.stringify(reply));
  await conn.closed();
  conn.close();
}

/** Asserts the reply is a refusal that leaves the connection usable (no `close`). */
async function assertInStep(
  reply: Body,
  conn: ProtocolConnection,
  code: Parameters<typeof assertError>[1],
): Promise<void> {
  assertError(reply, code);
  assert.equal("close" in reply, false, JSON.stringify(reply));
  assertOk(await conn.request({ op: "NOOP" }));
  conn.close();
}

async function exists(name: string): Promise<boolean> {
  return fs.stat(path.join(served.root, name)).then(
    () => true,
    () => false,
  );
}

test("a success trailer: ok, checksum.alg and checksum.value; case and extra fields do not matter", async () => {
  for (const [name, trailer] of [
    ["plain", { ok: true, checksum: { alg: "crc32", value: CRC } }],
    ["upper", { ok: true, checksum: { alg: "crc32", value: CRC.toUpperCase() } }],
    ["extra", { ok: true, checksum: { alg: "crc32", value: CRC }, count: 1, note: "x" }],
  ] as const) {
    const { reply, conn } = await upload(name, trailer);
    assertOk(reply);
    assert.equal("close" in reply, false);
    conn.close();
    assert.equal(await exists(name), true, name);
  }
});

test("a well-formed success trailer with another algorithm or value is CHECKSUM_MISMATCH, not fatal", async () => {
  const other = await upload("other-alg", { ok: true, checksum: { alg: "sha256", value: CRC } });
  await assertInStep(other.reply, other.conn, "BFTP_ERR_CHECKSUM_MISMATCH");
  const wrong = await upload("wrong-value", {
    ok: true,
    checksum: { alg: "crc32", value: "00000000" },
  });
  await assertInStep(wrong.reply, wrong.conn, "BFTP_ERR_CHECKSUM_MISMATCH");
  assert.equal(await exists("other-alg"), false);
  assert.equal(await exists("wrong-value"), false);
});

test("a well-formed error trailer is TRANSFER_ABORTED whatever its code, not fatal", async () => {
  for (const code of ["BFTP_ERR_NO_SPACE", "SOMETHING_UNKNOWN"]) {
    const { reply, conn } = await upload(`aborted-${code}`, {
      ok: false,
      error: { code, status: 507, message: "gave up" },
    });
    await assertInStep(reply, conn, "BFTP_ERR_TRANSFER_ABORTED");
    assert.equal(await exists(`aborted-${code}`), false);
  }
});

test("a malformed trailer is fatal: BAD_REQUEST with close, and nothing is committed", async () => {
  const malformed: [string, unknown][] = [
    ["no-checksum", { ok: true }],
    ["unknown-alg", { ok: true, checksum: { alg: "md5", value: CRC } }],
    ["value-not-string", { ok: true, checksum: { alg: "crc32", value: 0x352441c2 } }],
    ["ok-not-boolean", { ok: "true", checksum: { alg: "crc32", value: CRC } }],
    ["no-ok", { checksum: { alg: "crc32", value: CRC } }],
    ["error-missing", { ok: false }],
    ["error-no-status", { ok: false, error: { code: "BFTP_ERR_INTERNAL", message: "m" } }],
    ["error-no-message", { ok: false, error: { code: "BFTP_ERR_INTERNAL", status: 500 } }],
    ["array", [true]],
  ];
  for (const [name, trailer] of malformed) {
    const { reply, conn } = await upload(name, trailer);
    await assertFatal(reply, conn, "BFTP_ERR_BAD_REQUEST");
    assert.equal(await exists(name), false, name);
  }
});

test("a trailer that is not JSON is fatal too", async () => {
  const conn = await ProtocolConnection.open(served.port);
  await conn.send({ op: "PUT", path: "/not-json" });
  await conn.sendRaw("00000003abc0000000000000005{ok:1");
  await assertFatal(await conn.reply(), conn, "BFTP_ERR_BAD_REQUEST");
});

test("a data frame over maxChunk is refused from its header alone: FRAME_TOO_LARGE, fatal", async () => {
  const conn = await ProtocolConnection.open(served.port);
  await conn.send({ op: "PUT", path: "/too-large" });
  // Only the header is sent: the server must not wait for the payload.
  await conn.sendRaw((1024 * 1024 + 1).toString(16).padStart(8, "0"));
  await assertFatal(await conn.reply(), conn, "BFTP_ERR_FRAME_TOO_LARGE");
});

test("an upload that stalls, between frames or inside one, is TIMEOUT with close", async () => {
  for (const [name, partial] of [
    ["stall-between", "00000003abc"],
    ["stall-inside", "00000010abc"],
  ] as const) {
    const conn = await ProtocolConnection.open(served.port);
    await conn.send({ op: "PUT", path: `/${name}` });
    await conn.sendRaw(partial);
    await assertFatal(await conn.reply(), conn, "BFTP_ERR_TIMEOUT");
    assert.equal(await exists(name), false, name);
  }
});

test("close is absent from ok replies and from non-fatal errors, on the same connection", async () => {
  const conn = await ProtocolConnection.open(served.port);
  const ok = await conn.request({ op: "PWD" });
  assertOk(ok);
  assert.equal("close" in ok, false);
  const refused = await conn.request({ op: "STAT", path: "/missing" });
  assertError(refused, "BFTP_ERR_NOT_FOUND");
  assert.equal("close" in refused, false);
  conn.close();
});
