import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import fs from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { test } from "node:test";
import type { ErrorCode } from "../../src/errors.js";
import { HEX_SIZE_HEADER, encodeFrame, writeAll } from "../../src/wire/index.js";
import { assertError, assertOk } from "../helpers/assert-reply.js";
import { stagedUploads, startServer, type TestServer } from "../helpers/bftp-server.js";
import { ProtocolConnection, crc32 } from "../helpers/protocol-connection.js";
import { waitUntil } from "../helpers/wait-until.js";

// PROTOCOL.md §5.2: on shutdown, idle clients get BFTP_ERR_SHUTTING_DOWN with close at once;
// a request in progress finishes first, within the shutdown grace, then the same reply.

async function withServer(
  limits: Parameters<typeof startServer>[0],
  body: (srv: TestServer) => Promise<void>,
): Promise<void> {
  const srv = await startServer(limits);
  try {
    await body(srv);
  } finally {
    await srv.stop();
  }
}

async function assertFatal(conn: ProtocolConnection, code: ErrorCode): Promise<void> {
  const reply = await conn.reply();
  assertError(reply, code);
  assert.equal(reply["close"], true);
  await conn.closed();
}

/** Reads and discards until the server closes the connection. */
async function drainToClose(conn: ProtocolConnection): Promise<void> {
  for (;;) {
    try {
      await conn.reader.readSome(1 << 20, { timeout: 5000 });
    } catch (err) {
      assert.notEqual((err as { code?: unknown }).code, "BFTP_ERR_TIMEOUT", "still open");
      return;
    }
  }
}

test("server.close() sends BFTP_ERR_SHUTTING_DOWN to an idle client and closes it", () =>
  withServer({}, async (srv) => {
    const conn = await ProtocolConnection.open(srv.port);
    const before = await ProtocolConnection.open(srv.port, { hello: false });
    try {
      const closing = srv.server.close();
      await assertFatal(conn, "BFTP_ERR_SHUTTING_DOWN");
      await assertFatal(before, "BFTP_ERR_SHUTTING_DOWN");
      await closing;
      assert.equal(srv.server.connections, 0);
    } finally {
      conn.close();
      before.close();
    }
  }));

test("after server.close() begins, new connections are refused", () =>
  withServer({}, async (srv) => {
    const conn = await ProtocolConnection.open(srv.port);
    try {
      const closing = srv.server.close();
      const socket = net.connect(srv.port, "127.0.0.1");
      const [err] = (await once(socket, "error")) as [NodeJS.ErrnoException];
      assert.equal(err.code, "ECONNREFUSED");
      await assertFatal(conn, "BFTP_ERR_SHUTTING_DOWN");
      await closing;
    } finally {
      conn.close();
    }
  }));

test("a GET in progress when the server closes finishes, then the connection closes", () =>
  withServer({ shutdownGraceMs: 10_000 }, async (srv) => {
    const content = randomBytes(24 * 1024 * 1024); // more than the socket buffers hold
    await fs.writeFile(path.join(srv.root, "big.bin"), content);
    const conn = await ProtocolConnection.open(srv.port);
    try {
      await writeAll(conn.socket, [
        encodeFrame(JSON.stringify({ op: "GET", path: "/big.bin" })),
        encodeFrame(JSON.stringify({ op: "NOOP", tag: "queued" })),
      ]);
      assertOk(await conn.reply()); // the download has begun, and waits for this client
      const closing = srv.server.close();
      const { data, trailer } = await conn.readData();
      assert.equal(data.length, content.length);
      assert.ok(data.equals(content));
      assert.deepEqual(trailer, { ok: true, checksum: { alg: "crc32", value: crc32(content) } });
      // The request queued behind the download is not run: the session leaves instead.
      await assertFatal(conn, "BFTP_ERR_SHUTTING_DOWN");
      await closing;
      assert.equal(srv.server.connections, 0);
    } finally {
      conn.close();
    }
  }));

test("a PUT in progress when the server closes is committed, then the connection closes", () =>
  withServer({ shutdownGraceMs: 10_000 }, async (srv) => {
    const content = randomBytes(256 * 1024);
    const half = content.length / 2;
    const conn = await ProtocolConnection.open(srv.port);
    try {
      await writeAll(conn.socket, [
        encodeFrame(JSON.stringify({ op: "PUT", path: "/up.bin", size: content.length })),
        HEX_SIZE_HEADER.encode(half),
        content.subarray(0, half),
      ]);
      await waitUntil(
        () => stagedUploads(srv).some((name) => name.startsWith("part-")),
        "the upload has begun",
      );
      const closing = srv.server.close();
      await writeAll(conn.socket, [
        HEX_SIZE_HEADER.encode(half),
        content.subarray(half),
        HEX_SIZE_HEADER.encode(0),
        encodeFrame(
          JSON.stringify({ ok: true, checksum: { alg: "crc32", value: crc32(content) } }),
        ),
      ]);
      assert.deepEqual(await conn.reply(), {
        ok: true,
        size: content.length,
        checksum: { alg: "crc32", value: crc32(content) },
      });
      await assertFatal(conn, "BFTP_ERR_SHUTTING_DOWN");
      await closing;
      assert.ok((await fs.readFile(path.join(srv.root, "up.bin"))).equals(content));
    } finally {
      conn.close();
    }
  }));

test("a download still running when the grace runs out is cut", () =>
  withServer({ shutdownGraceMs: 300 }, async (srv) => {
    const huge = await fs.open(path.join(srv.root, "huge.bin"), "w");
    await huge.truncate(64 * 1024 * 1024);
    await huge.close();
    const conn = await ProtocolConnection.open(srv.port);
    try {
      await conn.send({ op: "GET", path: "/huge.bin" });
      assertOk(await conn.reply());
      conn.socket.pause(); // a client that reads nothing more holds the download open
      await srv.server.close(); // resolves once the grace has cut the session
      assert.equal(srv.server.connections, 0);
      conn.socket.resume();
      await drainToClose(conn);
    } finally {
      conn.close();
    }
  }));

test("an upload still running when the grace runs out is cut and leaves nothing behind", () =>
  withServer({ shutdownGraceMs: 300 }, async (srv) => {
    const conn = await ProtocolConnection.open(srv.port);
    try {
      await writeAll(conn.socket, [
        encodeFrame(JSON.stringify({ op: "PUT", path: "/never.bin" })),
        HEX_SIZE_HEADER.encode(1000),
        Buffer.alloc(10),
      ]);
      await waitUntil(
        () => stagedUploads(srv).some((name) => name.startsWith("part-")),
        "the upload has begun",
      );
      await srv.server.close();
      await drainToClose(conn);
      assert.deepEqual(await fs.readdir(srv.root), []);
      assert.deepEqual(stagedUploads(srv), []);
    } finally {
      conn.close();
    }
  }));
