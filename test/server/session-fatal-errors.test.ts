import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { ErrorCode } from "../../src/errors.js";
import { assertError } from "../helpers/assert-reply.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";
import { ProtocolConnection } from "../helpers/protocol-connection.js";
import { waitUntil } from "../helpers/wait-until.js";

// PROTOCOL.md §5.2: a fatal error gets one reply with "close": true, then the server closes.
// Frame headers (§2) and request payloads that are not a JSON object in UTF-8.

let srv: TestServer;

before(async () => {
  srv = await startServer();
});

after(() => srv.stop());

/** Reads the one fatal reply, then the close; nothing may follow the reply. */
async function assertFatal(conn: ProtocolConnection, code: ErrorCode): Promise<void> {
  const reply = await conn.reply();
  assertError(reply, code);
  assert.equal(reply["close"], true, JSON.stringify(reply));
  await conn.closed();
  assert.equal(conn.reader.buffered, 0, "nothing follows the fatal reply");
}

async function sendRawAfterHello(bytes: Uint8Array | string): Promise<ProtocolConnection> {
  const conn = await ProtocolConnection.open(srv.port);
  await conn.sendRaw(bytes);
  return conn;
}

test("an HTTP request instead of a frame is BFTP_ERR_BAD_FRAME_HEADER, fatal (§12.5)", async () => {
  const conn = await ProtocolConnection.open(srv.port, { hello: false });
  try {
    await conn.sendRaw("GET /etc/passwd HTTP/1.0\r\n\r\n");
    await assertFatal(conn, "BFTP_ERR_BAD_FRAME_HEADER");
  } finally {
    conn.close();
  }
});

test("headers that are not exactly 8 hex digits are BFTP_ERR_BAD_FRAME_HEADER", async () => {
  for (const header of ["0x00000c", " 000000c", "+000000c", "-000000c", "000000g0", "0000 00c"]) {
    const conn = await sendRawAfterHello(`${header}{"op":"PWD"}`);
    try {
      await assertFatal(conn, "BFTP_ERR_BAD_FRAME_HEADER");
    } finally {
      conn.close();
    }
  }
});

test("a header in uppercase hex is accepted (§2: receivers accept A-F)", async () => {
  const conn = await ProtocolConnection.open(srv.port);
  try {
    const payload = `{"op":"STAT","path":"/","tag":"${"x".repeat(11)}"}`;
    assert.equal(payload.length, 0x2c);
    await conn.sendRaw(`0000002C${payload}`);
    const reply = await conn.reply();
    assert.equal(reply.ok, true, JSON.stringify(reply));
  } finally {
    conn.close();
  }
});

test("a bad header after good requests: the good ones are answered, then the fatal reply", async () => {
  const conn = await sendRawAfterHello(`0000000c{"op":"PWD"}zzzzzzzz{"op":"PWD"}`);
  try {
    assert.deepEqual(await conn.reply(), { ok: true, path: "/" });
    await assertFatal(conn, "BFTP_ERR_BAD_FRAME_HEADER");
  } finally {
    conn.close();
  }
});

test("a payload that is not JSON is BFTP_ERR_BAD_REQUEST, fatal", async () => {
  for (const payload of ["not json", "{", '{"op":"PWD"', "{'op':'PWD'}", '\ufeff{"op":"PWD"}']) {
    const bytes = Buffer.from(payload);
    const header = bytes.length.toString(16).padStart(8, "0");
    const conn = await sendRawAfterHello(Buffer.concat([Buffer.from(header), bytes]));
    try {
      await assertFatal(conn, "BFTP_ERR_BAD_REQUEST");
    } finally {
      conn.close();
    }
  }
});

test("a payload that is not valid UTF-8 is BFTP_ERR_BAD_REQUEST, fatal", async () => {
  const bytes = Buffer.from([0x7b, 0x22, 0x6f, 0x70, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]);
  const conn = await sendRawAfterHello(Buffer.concat([Buffer.from("0000000b"), bytes]));
  try {
    await assertFatal(conn, "BFTP_ERR_BAD_REQUEST");
  } finally {
    conn.close();
  }
});

test("JSON that is not an object is BFTP_ERR_BAD_REQUEST, fatal", async () => {
  for (const payload of ['["PWD"]', '"PWD"', "42", "null", "true"]) {
    const header = payload.length.toString(16).padStart(8, "0");
    const conn = await sendRawAfterHello(header + payload);
    try {
      await assertFatal(conn, "BFTP_ERR_BAD_REQUEST");
    } finally {
      conn.close();
    }
  }
});

test("a terminator outside a data phase is an empty request: BFTP_ERR_BAD_REQUEST, fatal", async () => {
  const conn = await sendRawAfterHello("00000000");
  try {
    await assertFatal(conn, "BFTP_ERR_BAD_REQUEST");
  } finally {
    conn.close();
  }
});

test("a malformed trailer ends an upload fatally: the stream cannot be trusted", async () => {
  const conn = await ProtocolConnection.open(srv.port);
  try {
    await conn.send({ op: "PUT", path: "/bad-trailer.txt" });
    await conn.sendData(Buffer.from("data"), { trailer: { ok: "yes" } });
    await assertFatal(conn, "BFTP_ERR_BAD_REQUEST");
    await waitUntil(() => srv.server.connections === 0, "the session has ended");
  } finally {
    conn.close();
  }
});

test("a client that closes in the middle of a frame just ends its session", async () => {
  const conn = await ProtocolConnection.open(srv.port);
  await conn.sendRaw('0000000c{"op":');
  conn.socket.end();
  await conn.closed();
  assert.equal(conn.reader.buffered, 0, "no reply to half a request");
  await waitUntil(() => srv.server.connections === 0, "the session has ended");
});

test("the server keeps serving other connections after fatal errors", async () => {
  const conn = await ProtocolConnection.open(srv.port);
  try {
    assert.deepEqual(await conn.request({ op: "PWD" }), { ok: true, path: "/" });
  } finally {
    conn.close();
  }
});
