// Issue 5: the session prepares pipelined GET and STAT requests while earlier ones are still
// being answered. Replies must still leave strictly in request order (PROTOCOL.md §4.2), and
// nothing may be prepared past a request that changes what later ones see (DELETE, CD, PUT),
// nor hide an ABORT. A session that ends with prepared requests closes their files.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import fs from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { encodeFrame, writeAll } from "../../src/wire/index.js";
import { assertError, assertOk } from "../helpers/assert-reply.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";
import { ProtocolConnection, crc32 } from "../helpers/protocol-connection.js";

const BIG = randomBytes(3 * 1024 * 1024 + 1); // several frames: later requests wait behind it

let srv: TestServer;

before(async () => {
  srv = await startServer();
  await fs.writeFile(path.join(srv.root, "big.bin"), BIG);
  await fs.mkdir(path.join(srv.root, "sub"));
  for (let i = 0; i < 40; i++) await fs.writeFile(path.join(srv.root, `f${i}`), `file ${i}`);
  await fs.writeFile(path.join(srv.root, "sub", "f1"), "inside sub");
  for (let i = 0; i < 16; i++)
    await fs.writeFile(path.join(srv.root, `m${i}`), randomBytes(200_000));
});

after(() => srv.stop());

/** Sends every request in one write, before reading any reply. */
async function pipeline(conn: ProtocolConnection, requests: object[]): Promise<void> {
  await writeAll(
    conn.socket,
    requests.map((r) => encodeFrame(JSON.stringify(r))),
  );
}

test("pipelined GETs and STATs behind a large GET are answered in order, with their tags", async () => {
  const conn = await ProtocolConnection.open(srv.port);
  try {
    const requests: object[] = [{ op: "GET", path: "/big.bin", tag: "big" }];
    for (let i = 0; i < 40; i++) {
      // Every third names a missing file: its error must come in its turn too.
      const name = i % 3 === 2 ? `/missing-${i}` : `/f${i}`;
      requests.push({ op: i % 2 === 0 ? "GET" : "STAT", path: name, tag: i });
    }
    await pipeline(conn, requests);
    const first = await conn.reply();
    assert.equal(first["tag"], "big");
    const big = await conn.readData(30_000);
    assert.ok(big.data.equals(BIG));
    for (let i = 0; i < 40; i++) {
      const reply = await conn.reply();
      assert.equal(reply["tag"], i);
      if (i % 3 === 2) {
        assertError(reply, "BFTP_ERR_NOT_FOUND");
        continue;
      }
      assertOk(reply);
      if (i % 2 === 0) {
        const { data, trailer } = await conn.readData();
        assert.equal(data.toString(), `file ${i}`);
        assert.deepEqual(trailer, { ok: true, checksum: { alg: "crc32", value: crc32(data) } });
      } else {
        assert.equal((reply["entry"] as { name: string }).name, `f${i}`);
      }
    }
  } finally {
    conn.close();
  }
});

test("a GET pipelined behind a DELETE of its file sees the file gone", async () => {
  await fs.writeFile(path.join(srv.root, "doomed"), "soon gone");
  const conn = await ProtocolConnection.open(srv.port);
  try {
    await pipeline(conn, [
      { op: "GET", path: "/big.bin" },
      { op: "GET", path: "/doomed" },
      { op: "DELETE", path: "/doomed" },
      { op: "GET", path: "/doomed" },
      { op: "STAT", path: "/doomed" },
    ]);
    assertOk(await conn.reply());
    await conn.readData(30_000);
    assertOk(await conn.reply());
    assert.equal((await conn.readData()).data.toString(), "soon gone"); // before the DELETE
    assertOk(await conn.reply()); // DELETE
    assertError(await conn.reply(), "BFTP_ERR_NOT_FOUND");
    assertError(await conn.reply(), "BFTP_ERR_NOT_FOUND");
  } finally {
    conn.close();
  }
});

test("a GET pipelined behind a CD resolves in the new working directory", async () => {
  const conn = await ProtocolConnection.open(srv.port);
  try {
    await pipeline(conn, [
      { op: "GET", path: "f1" },
      { op: "CD", path: "/sub" },
      { op: "GET", path: "f1" },
    ]);
    assertOk(await conn.reply());
    assert.equal((await conn.readData()).data.toString(), "file 1");
    assertOk(await conn.reply());
    assertOk(await conn.reply());
    assert.equal((await conn.readData()).data.toString(), "inside sub");
  } finally {
    conn.close();
  }
});

test("an ABORT behind prepared GETs stops only the GET right before it", async () => {
  const conn = await ProtocolConnection.open(srv.port);
  try {
    await pipeline(conn, [
      { op: "GET", path: "/big.bin" },
      { op: "GET", path: "/f0" },
      { op: "ABORT" },
    ]);
    assertOk(await conn.reply());
    const big = await conn.readData(30_000);
    assert.ok(big.data.equals(BIG)); // not aborted: while it ran, the ABORT was not next
    assertOk(await conn.reply());
    assertError((await conn.readData()).trailer, "BFTP_ERR_TRANSFER_ABORTED");
    assert.deepEqual(await conn.reply(), { ok: true, aborted: true });
  } finally {
    conn.close();
  }
});

test("an ABORT right behind a GET still stops it", async () => {
  const conn = await ProtocolConnection.open(srv.port);
  try {
    conn.socket.pause(); // the server blocks on backpressure, then finds the ABORT queued
    await pipeline(conn, [{ op: "GET", path: "/big.bin" }, { op: "ABORT" }]);
    conn.socket.resume();
    assertOk(await conn.reply());
    const { trailer } = await conn.readData(30_000);
    assertError(trailer, "BFTP_ERR_TRANSFER_ABORTED");
    assert.deepEqual(await conn.reply(), { ok: true, aborted: true });
  } finally {
    conn.close();
  }
});

test("a client that leaves with requests prepared leaves no file open on the server", async () => {
  const fdCount = async (): Promise<number> => (await fs.readdir("/proc/self/fd")).length;
  const before = await fdCount();
  const conn = await ProtocolConnection.open(srv.port);
  conn.socket.pause(); // the big GET blocks; the small ones behind it are prepared meanwhile
  await pipeline(conn, [
    { op: "GET", path: "/big.bin" },
    ...Array.from({ length: 16 }, (_, i) => ({ op: "GET", path: `/f${i}` })),
  ]);
  await sleep(200); // time for the session to take and prepare the GETs behind the big one
  conn.socket.destroy();
  await once(conn.socket, "close");
  // No event says the session has cleaned up: poll, with a deadline.
  let open = await fdCount();
  for (const deadline = Date.now() + 10_000; open > before && Date.now() < deadline;) {
    await sleep(20);
    open = await fdCount();
  }
  assert.ok(open <= before, `${open - before} descriptors still open`);
});

test("downloads prepared ahead do not hold their files open until their turn", async () => {
  const fdCount = async (): Promise<number> => (await fs.readdir("/proc/self/fd")).length;
  const before = await fdCount();
  const conn = await ProtocolConnection.open(srv.port);
  try {
    conn.socket.pause(); // the big GET blocks with its file open; 16 larger GETs wait behind
    await pipeline(conn, [
      { op: "GET", path: "/big.bin" },
      ...Array.from({ length: 16 }, (_, i) => ({ op: "GET", path: `/m${i}` })),
    ]);
    await sleep(300); // time for the session to take and prepare them
    // The client's socket, the session's socket and the big file; prepared ones hold none.
    assert.ok((await fdCount()) <= before + 3, `${(await fdCount()) - before} more descriptors`);
    conn.socket.resume();
    assertOk(await conn.reply());
    await conn.readData(30_000);
    for (let i = 0; i < 16; i++) {
      assertOk(await conn.reply());
      const { data } = await conn.readData();
      assert.ok(data.equals(await fs.readFile(path.join(srv.root, `m${i}`))));
    }
  } finally {
    conn.close();
  }
});
