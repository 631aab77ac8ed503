import assert from "node:assert/strict";
import fs from "node:fs/promises";
import { after, before, test } from "node:test";
import type { ErrorCode } from "../../src/errors.js";
import { HEX_SIZE_HEADER, encodeFrame } from "../../src/wire/index.js";
import { assertError, assertOk } from "../helpers/assert-reply.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";
import { ProtocolConnection, crc32 } from "../helpers/protocol-connection.js";
import { waitUntil } from "../helpers/wait-until.js";

// PROTOCOL.md §2 and §11: a frame over the receiver's limit is refused as soon as its header
// is read, before any payload; for control frames and data frames alike it is fatal.

const MAX_CONTROL = 1024;
const MAX_CHUNK = 4096;

let srv: TestServer;

before(async () => {
  srv = await startServer({ maxControlFrame: MAX_CONTROL, maxChunk: MAX_CHUNK });
});

after(() => srv.stop());

async function assertFatal(conn: ProtocolConnection, code: ErrorCode): Promise<void> {
  const reply = await conn.reply();
  assertError(reply, code);
  assert.equal(reply["close"], true);
  await conn.closed();
}

/** A STAT request whose frame payload is exactly `size` bytes. */
function statOfSize(size: number): Buffer {
  const empty = JSON.stringify({ op: "STAT", path: "/" });
  const request = JSON.stringify({ op: "STAT", path: `/${"a".repeat(size - empty.length)}` });
  assert.equal(request.length, size);
  return encodeFrame(request);
}

test("HELLO reports the limits a client must respect", async () => {
  const conn = await ProtocolConnection.open(srv.port, { hello: false });
  try {
    const reply = await conn.request({ op: "HELLO", versions: [1] });
    const limits = reply["limits"] as Record<string, number>;
    assert.equal(limits["maxControlFrame"], MAX_CONTROL);
    assert.equal(limits["maxChunk"], MAX_CHUNK);
  } finally {
    conn.close();
  }
});

test("a control frame of exactly maxControlFrame bytes is accepted", async () => {
  const conn = await ProtocolConnection.open(srv.port);
  try {
    // A 1,000-byte name is over the 255-byte component limit: refused, but not for its size.
    await conn.sendRaw(statOfSize(MAX_CONTROL));
    assertError(await conn.reply(), "BFTP_ERR_PATH_REFUSED");
    assertOk(await conn.request({ op: "NOOP" }));
  } finally {
    conn.close();
  }
});

test("a control frame over maxControlFrame is BFTP_ERR_FRAME_TOO_LARGE, fatal", async () => {
  const conn = await ProtocolConnection.open(srv.port);
  try {
    await conn.sendRaw(statOfSize(MAX_CONTROL + 1));
    await assertFatal(conn, "BFTP_ERR_FRAME_TOO_LARGE");
  } finally {
    conn.close();
  }
});

test("an oversized control frame is refused on its header alone, before any payload", async () => {
  for (const header of [HEX_SIZE_HEADER.encode(MAX_CONTROL + 1), Buffer.from("ffffffff")]) {
    const conn = await ProtocolConnection.open(srv.port);
    try {
      await conn.sendRaw(header); // and nothing else: the reply must not wait for the payload
      await assertFatal(conn, "BFTP_ERR_FRAME_TOO_LARGE");
    } finally {
      conn.close();
    }
  }
});

test("an oversized HELLO is refused the same way, before the conversation starts", async () => {
  const conn = await ProtocolConnection.open(srv.port, { hello: false });
  try {
    await conn.sendRaw(HEX_SIZE_HEADER.encode(1 << 20));
    await assertFatal(conn, "BFTP_ERR_FRAME_TOO_LARGE");
  } finally {
    conn.close();
  }
});

test("PUT data frames of exactly maxChunk bytes are accepted", async () => {
  const conn = await ProtocolConnection.open(srv.port);
  try {
    const data = Buffer.alloc(3 * MAX_CHUNK, 1);
    await conn.send({ op: "PUT", path: "/exact.bin" });
    await conn.sendData(data, { chunk: MAX_CHUNK });
    assertOk(await conn.reply());
  } finally {
    conn.close();
  }
});

test("a PUT data frame over maxChunk is BFTP_ERR_FRAME_TOO_LARGE, fatal, nothing left behind", async () => {
  const conn = await ProtocolConnection.open(srv.port);
  try {
    await conn.send({ op: "PUT", path: "/too-big.bin" });
    await conn.sendRaw(HEX_SIZE_HEADER.encode(MAX_CHUNK + 1)); // the header alone suffices
    await assertFatal(conn, "BFTP_ERR_FRAME_TOO_LARGE");
    await waitUntil(() => srv.server.connections === 0, "the session has ended");
    assert.deepEqual(await fs.readdir(srv.root), ["exact.bin"]);
  } finally {
    conn.close();
  }
});

test("a refused PUT is drained frame by frame: its frames too must respect maxChunk", async () => {
  await fs.writeFile(`${srv.root}/exists.bin`, "x");
  const conn = await ProtocolConnection.open(srv.port);
  try {
    await conn.send({ op: "PUT", path: "/exists.bin" });
    await conn.sendRaw(HEX_SIZE_HEADER.encode(MAX_CHUNK + 1));
    await assertFatal(conn, "BFTP_ERR_FRAME_TOO_LARGE");
  } finally {
    conn.close();
  }
});

test("an upload's trailer is a control frame, and has a size limit too", async () => {
  const conn = await ProtocolConnection.open(srv.port);
  try {
    const data = Buffer.from("data");
    await conn.send({ op: "PUT", path: "/big-trailer.bin" });
    await conn.sendData(data, {
      trailer: { ok: true, checksum: { alg: "crc32", value: crc32(data) }, pad: "p".repeat(9000) },
    });
    await assertFatal(conn, "BFTP_ERR_FRAME_TOO_LARGE");
  } finally {
    conn.close();
  }
});

test("bug: an upload's trailer under a raised maxControlFrame is accepted", async () => {
  // The trailer limit is a fixed 8 KiB (MAX_TRAILER_BYTES in session.ts), not the server's
  // maxControlFrame: a server configured for larger control frames refuses trailers that
  // HELLO told the client it may send.
  const roomy = await startServer({ maxControlFrame: 16_384 });
  const conn = await ProtocolConnection.open(roomy.port);
  try {
    const data = Buffer.from("data");
    await conn.send({ op: "PUT", path: "/roomy.bin" });
    await conn.sendData(data, {
      trailer: { ok: true, checksum: { alg: "crc32", value: crc32(data) }, pad: "p".repeat(9000) },
    });
    assertOk(await conn.reply());
  } finally {
    conn.close();
    await roomy.stop();
  }
});
