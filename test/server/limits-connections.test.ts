import assert from "node:assert/strict";
import { once } from "node:events";
import net from "node:net";
import { after, before, test } from "node:test";
import { StreamReader, encodeFrame } from "../../src/wire/index.js";
import { assertError, assertOk } from "../helpers/assert-reply.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";
import { ProtocolConnection, type Body } from "../helpers/protocol-connection.js";
import { waitUntil } from "../helpers/wait-until.js";

// PROTOCOL.md §3 and §11: over its connection limits, overall or per address, the server
// reads nothing, sends one BFTP_ERR_BUSY reply with close, and closes; the counters go back
// down as connections end.

let overall: TestServer;
let perIp: TestServer;

before(async () => {
  overall = await startServer({ maxConnections: 2, maxPerIp: 100 });
  perIp = await startServer({ maxConnections: 100, maxPerIp: 2 });
});

after(async () => {
  await overall.stop();
  await perIp.stop();
});

/** A connection from `localAddress` (any of 127/8 reaches a server on 127.0.0.1 on Linux). */
async function connectFrom(
  port: number,
  localAddress: string,
): Promise<{ socket: net.Socket; reader: StreamReader }> {
  const socket = net.connect({ port, host: "127.0.0.1", localAddress });
  socket.on("error", () => {});
  await once(socket, "connect");
  return { socket, reader: new StreamReader(socket) };
}

async function readReply(reader: StreamReader): Promise<Body> {
  const payload = await reader.readFrame({ maxSize: 1 << 16, timeout: 10_000 });
  return JSON.parse(payload.toString("utf8")) as Body;
}

/** The one reply a refused connection gets, then its close. */
async function assertBusy(conn: ProtocolConnection): Promise<void> {
  const reply = await conn.reply();
  assertError(reply, "BFTP_ERR_BUSY");
  assert.equal(reply["close"], true);
  await conn.closed();
  assert.equal(conn.reader.buffered, 0);
}

test("over maxConnections, a connection gets BFTP_ERR_BUSY with close, and is closed", async () => {
  const first = await ProtocolConnection.open(overall.port);
  const second = await ProtocolConnection.open(overall.port);
  try {
    assert.equal(overall.server.connections, 2);
    const third = await ProtocolConnection.open(overall.port, { hello: false });
    try {
      await assertBusy(third); // without having sent anything: the server speaks first
    } finally {
      third.close();
    }
    assert.equal(overall.server.connections, 2, "a refused connection is not counted");
    // The two admitted sessions are unaffected.
    assertOk(await first.request({ op: "NOOP" }));
    assertOk(await second.request({ op: "NOOP" }));
  } finally {
    first.close();
    second.close();
  }
  await waitUntil(() => overall.server.connections === 0, "both sessions have ended");
});

test("a refused client reads BFTP_ERR_BUSY as the reply to its HELLO; the HELLO is not run", async () => {
  const held = [
    await ProtocolConnection.open(overall.port),
    await ProtocolConnection.open(overall.port),
  ];
  try {
    const refused = await ProtocolConnection.open(overall.port, { hello: false });
    try {
      await refused.send({ op: "HELLO", versions: [1] });
      await refused.send({ op: "NOOP" });
      await assertBusy(refused);
    } finally {
      refused.close();
    }
  } finally {
    for (const conn of held) conn.close();
  }
  await waitUntil(() => overall.server.connections === 0, "the sessions have ended");
});

test("when a connection closes, its place is free again", async () => {
  for (let round = 0; round < 3; round++) {
    const a = await ProtocolConnection.open(overall.port);
    const b = await ProtocolConnection.open(overall.port);
    const busy = await ProtocolConnection.open(overall.port, { hello: false });
    await assertBusy(busy);
    busy.close();
    assertOk(await a.request({ op: "QUIT" }));
    await a.closed();
    await waitUntil(() => overall.server.connections === 1, "one session has ended");
    const c = await ProtocolConnection.open(overall.port);
    assert.deepEqual(await c.request({ op: "PWD" }), { ok: true, path: "/" });
    b.close();
    c.close();
    await waitUntil(() => overall.server.connections === 0, "every session has ended");
  }
});

test("over maxPerIp, a connection from that address gets BFTP_ERR_BUSY", async () => {
  const first = await ProtocolConnection.open(perIp.port);
  const second = await ProtocolConnection.open(perIp.port);
  try {
    const third = await ProtocolConnection.open(perIp.port, { hello: false });
    try {
      await assertBusy(third);
    } finally {
      third.close();
    }
    assert.equal(perIp.server.connections, 2);
  } finally {
    first.close();
    second.close();
  }
  await waitUntil(() => perIp.server.connections === 0, "both sessions have ended");
  const again = await ProtocolConnection.open(perIp.port);
  assertOk(await again.request({ op: "NOOP" }));
  again.close();
  await waitUntil(() => perIp.server.connections === 0, "the session has ended");
});

test("maxPerIp counts each address on its own", async () => {
  const held = [
    await ProtocolConnection.open(perIp.port),
    await ProtocolConnection.open(perIp.port),
  ];
  const other = await connectFrom(perIp.port, "127.0.0.2");
  try {
    other.socket.write(encodeFrame(JSON.stringify({ op: "HELLO", versions: [1] })));
    assertOk(await readReply(other.reader));
    assert.equal(perIp.server.connections, 3);
    const refused = await connectFrom(perIp.port, "127.0.0.1");
    const reply = await readReply(refused.reader);
    assertError(reply, "BFTP_ERR_BUSY");
    refused.socket.destroy();
  } finally {
    other.socket.destroy();
    for (const conn of held) conn.close();
  }
  await waitUntil(() => perIp.server.connections === 0, "every session has ended");
});

test("many connections opened and closed leave the counters at zero", async () => {
  for (let round = 0; round < 10; round++) {
    const batch = await Promise.all([
      ProtocolConnection.open(perIp.port),
      ProtocolConnection.open(perIp.port),
    ]);
    await Promise.all(batch.map((conn) => conn.request({ op: "NOOP" })));
    for (const conn of batch) conn.close();
    await waitUntil(() => perIp.server.connections === 0, "the batch has ended");
  }
  const last = [
    await ProtocolConnection.open(perIp.port),
    await ProtocolConnection.open(perIp.port),
  ];
  for (const conn of last) assertOk(await conn.request({ op: "NOOP" }));
  for (const conn of last) conn.close();
  await waitUntil(() => perIp.server.connections === 0, "the last sessions have ended");
});
