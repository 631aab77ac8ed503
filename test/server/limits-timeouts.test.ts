import assert from "node:assert/strict";
import fs from "node:fs/promises";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { after, before, test } from "node:test";
import type { ErrorCode } from "../../src/errors.js";
import { HEX_SIZE_HEADER } from "../../src/wire/index.js";
import { assertError, assertOk } from "../helpers/assert-reply.js";
import { stagedUploads, startServer, type TestServer } from "../helpers/bftp-server.js";
import { ProtocolConnection } from "../helpers/protocol-connection.js";
import { waitUntil } from "../helpers/wait-until.js";

// PROTOCOL.md §5.2 and §11: the idle timeout, the frame deadline and the transfer stall
// deadline are fatal (BFTP_ERR_TIMEOUT), with short limits so the suite stays fast.

const SHORT = 300;

let srv: TestServer;

before(async () => {
  srv = await startServer({
    idleTimeoutMs: SHORT,
    frameTimeoutMs: SHORT,
    stallTimeoutMs: SHORT,
  });
  const huge = await fs.open(path.join(srv.root, "huge.bin"), "w");
  await huge.truncate(64 * 1024 * 1024); // sparse: more than any socket buffer holds
  await huge.close();
});

after(() => srv.stop());

async function leftovers(): Promise<string[]> {
  const inRoot = (await fs.readdir(srv.root)).filter((name) => name.startsWith(".bftp-"));
  return [...inRoot, ...stagedUploads(srv)];
}

async function assertFatal(conn: ProtocolConnection, code: ErrorCode): Promise<void> {
  const reply = await conn.reply();
  assertError(reply, code);
  assert.equal(reply["close"], true);
  await conn.closed();
}

test("no request within the idle timeout is BFTP_ERR_TIMEOUT, fatal", async () => {
  const conn = await ProtocolConnection.open(srv.port);
  try {
    await assertFatal(conn, "BFTP_ERR_TIMEOUT");
  } finally {
    conn.close();
  }
});

test("the idle timeout applies before HELLO too", async () => {
  const conn = await ProtocolConnection.open(srv.port, { hello: false });
  try {
    await assertFatal(conn, "BFTP_ERR_TIMEOUT");
  } finally {
    conn.close();
  }
});

test("NOOP keeps an idle connection alive past the idle timeout", async () => {
  const conn = await ProtocolConnection.open(srv.port);
  try {
    // Each wait is a sixth of the timeout; together they last well past it.
    for (let i = 0; i < 12; i++) {
      await delay(SHORT / 6);
      assert.deepEqual(await conn.request({ op: "NOOP", tag: i }), { ok: true, tag: i });
    }
  } finally {
    conn.close();
  }
});

test("half a frame header not completed within the frame deadline is BFTP_ERR_TIMEOUT", async () => {
  const conn = await ProtocolConnection.open(srv.port);
  try {
    await conn.sendRaw("0000");
    await assertFatal(conn, "BFTP_ERR_TIMEOUT");
  } finally {
    conn.close();
  }
});

test("half a request not completed within the frame deadline is BFTP_ERR_TIMEOUT", async () => {
  const conn = await ProtocolConnection.open(srv.port);
  try {
    await conn.sendRaw('00000019{"op":"CD",');
    await assertFatal(conn, "BFTP_ERR_TIMEOUT");
  } finally {
    conn.close();
  }
});

test("an upload that stalls is BFTP_ERR_TIMEOUT, fatal, and leaves no temporary file", async () => {
  const conn = await ProtocolConnection.open(srv.port);
  try {
    await conn.send({ op: "PUT", path: "/stalled.bin" });
    await conn.sendRaw(Buffer.concat([HEX_SIZE_HEADER.encode(1000), Buffer.alloc(400)]));
    await assertFatal(conn, "BFTP_ERR_TIMEOUT");
    await waitUntil(() => srv.server.connections === 0, "the session has ended");
    assert.deepEqual(await leftovers(), []);
    await assert.rejects(fs.stat(path.join(srv.root, "stalled.bin")), { code: "ENOENT" });
  } finally {
    conn.close();
  }
});

test("a resumable upload that stalls keeps what arrived, for RESUME", async () => {
  const conn = await ProtocolConnection.open(srv.port);
  try {
    await conn.send({ op: "PUT", path: "/stalled-resumable.bin", resumable: true });
    await conn.sendRaw(Buffer.concat([HEX_SIZE_HEADER.encode(1000), Buffer.alloc(400, 7)]));
    await assertFatal(conn, "BFTP_ERR_TIMEOUT");
    await waitUntil(() => srv.server.connections === 0, "the session has ended");
  } finally {
    conn.close();
  }
  const next = await ProtocolConnection.open(srv.port);
  try {
    const reply = await next.request({ op: "RESUME", path: "/stalled-resumable.bin" });
    assertOk(reply);
    assert.equal(reply["offset"], 400);
  } finally {
    next.close();
  }
});

test("a download the client stops reading ends when the stall deadline passes", async () => {
  const conn = await ProtocolConnection.open(srv.port);
  try {
    await conn.send({ op: "GET", path: "/huge.bin" });
    conn.socket.pause(); // read nothing: the server's writes stall on a full socket
    await waitUntil(() => srv.server.connections === 0, "the stalled session has ended");
    conn.socket.resume();
    // Whatever was in flight still arrives; then the server's close.
    for (;;) {
      try {
        await conn.reader.readSome(1 << 20, { timeout: 5000 });
      } catch (err) {
        assert.notEqual((err as { code?: unknown }).code, "BFTP_ERR_TIMEOUT", "still open");
        break;
      }
    }
  } finally {
    conn.close();
  }
});
