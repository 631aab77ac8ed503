import assert from "node:assert/strict";
import fs from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { encodeFrame, writeAll } from "../../src/wire/index.js";
import { assertOk } from "../helpers/assert-reply.js";
import { stagedUploads, startServer, type TestServer } from "../helpers/bftp-server.js";
import { ProtocolConnection, crc32 } from "../helpers/protocol-connection.js";
import { waitUntil } from "../helpers/wait-until.js";

// PROTOCOL.md §3 and §4.2: every request the server received gets its reply, in order. A
// client that has sent all it will send may shut down its side of the connection (TCP
// half-close, as `nc -N` does); it still reads the replies to what it sent.

const CONTENT = Buffer.alloc(100_000, 0x41);

let srv: TestServer;

before(async () => {
  srv = await startServer();
  await fs.writeFile(path.join(srv.root, "a.txt"), CONTENT);
});

after(() => srv.stop());

const frame = (request: object): Buffer => encodeFrame(JSON.stringify(request));

test("bug: requests pipelined before the client half-closes are all answered", async () => {
  // Today the listener is not allowHalfOpen: Node ends the server's side as soon as the
  // client's FIN is read, before the queued requests run, so only the first reply arrives.
  const conn = await ProtocolConnection.open(srv.port);
  try {
    await writeAll(conn.socket, [
      frame({ op: "NOOP", tag: 1 }),
      frame({ op: "GET", path: "/a.txt", tag: 2 }),
      frame({ op: "STAT", path: "/a.txt", tag: 3 }),
    ]);
    conn.socket.end(); // nothing more to send
    assert.deepEqual(await conn.reply(), { ok: true, tag: 1 });
    const get = await conn.reply();
    assertOk(get);
    assert.equal(get["tag"], 2);
    const { data, trailer } = await conn.readData();
    assert.ok(data.equals(CONTENT));
    assert.deepEqual(trailer, { ok: true, checksum: { alg: "crc32", value: crc32(CONTENT) } });
    const stat = await conn.reply();
    assertOk(stat);
    assert.equal(stat["tag"], 3);
    await conn.closed(); // then the server, having nothing more to read, closes too
  } finally {
    conn.close();
  }
});

test("bug: an upload followed by the client's half-close is committed and replied", async () => {
  const conn = await ProtocolConnection.open(srv.port);
  try {
    const data = Buffer.alloc(300_000, 0x42);
    await conn.send({ op: "PUT", path: "/up.bin", size: data.length });
    await conn.sendData(data, { chunk: 65_536 });
    conn.socket.end();
    assert.deepEqual(await conn.reply(), {
      ok: true,
      size: data.length,
      checksum: { alg: "crc32", value: crc32(data) },
    });
    await conn.closed();
    assert.ok((await fs.readFile(path.join(srv.root, "up.bin"))).equals(data));
  } finally {
    conn.close();
  }
});

test("a half-close in the middle of an upload commits nothing and ends the session", async () => {
  const conn = await ProtocolConnection.open(srv.port);
  try {
    await conn.send({ op: "PUT", path: "/cut.bin" });
    await conn.sendRaw(Buffer.concat([Buffer.from("00010000"), Buffer.alloc(1000)]));
    conn.socket.end();
    await conn.closed();
    await waitUntil(() => srv.server.connections === 0, "the session has ended");
    const names = await fs.readdir(srv.root);
    assert.ok(!names.includes("cut.bin"));
    assert.deepEqual(
      [...names.filter((name) => name.startsWith(".bftp-")), ...stagedUploads(srv)],
      [],
    );
  } finally {
    conn.close();
  }
});

test("a client that half-closes while idle ends its session", async () => {
  const conn = await ProtocolConnection.open(srv.port);
  try {
    conn.socket.end();
    await conn.closed();
    await waitUntil(() => srv.server.connections === 0, "the session has ended");
  } finally {
    conn.close();
  }
});
