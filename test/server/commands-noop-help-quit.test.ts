import assert from "node:assert/strict";
import fs from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { encodeFrame, writeAll } from "../../src/wire/index.js";
import { assertOk } from "../helpers/assert-reply.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";
import { ProtocolConnection } from "../helpers/protocol-connection.js";
import { waitUntil } from "../helpers/wait-until.js";

// PROTOCOL.md §8.3: NOOP, HELP, QUIT.

const ALL_OPS = [
  "HELLO",
  "LOGIN",
  "NOOP",
  "HELP",
  "QUIT",
  "PWD",
  "CD",
  "STAT",
  "LIST",
  "GET",
  "PUT",
  "DELETE",
  "MKDIR",
  "RMDIR",
  "RENAME",
  "HASH",
  "RESUME",
  "ABORT",
  "GETTREE",
  "PUTTREE",
];

let srv: TestServer;

before(async () => {
  srv = await startServer();
});

after(() => srv.stop());

test("NOOP replies ok with nothing else but the tag", async () => {
  const conn = await ProtocolConnection.open(srv.port);
  try {
    assert.deepEqual(await conn.request({ op: "NOOP" }), { ok: true });
    assert.deepEqual(await conn.request({ op: "NOOP", tag: "keep-alive" }), {
      ok: true,
      tag: "keep-alive",
    });
  } finally {
    conn.close();
  }
});

test("HELP lists every command of §8, in order, each with a summary", async () => {
  const conn = await ProtocolConnection.open(srv.port);
  try {
    const reply = await conn.request({ op: "HELP" });
    assertOk(reply);
    const commands = reply["commands"] as { op: string; summary: string }[];
    assert.deepEqual(
      commands.map((c) => c.op),
      ALL_OPS,
    );
    for (const { op, summary } of commands) {
      assert.equal(typeof summary, "string", op);
      assert.ok(summary.length > 0, op);
    }
  } finally {
    conn.close();
  }
});

test("NOOP and HELP take no fields", async () => {
  const conn = await ProtocolConnection.open(srv.port);
  try {
    for (const op of ["NOOP", "HELP", "QUIT", "PWD", "ABORT"]) {
      const reply = await conn.request({ op, path: "/" });
      assert.equal(reply.error?.code, "BFTP_ERR_BAD_REQUEST", op);
    }
    assertOk(await conn.request({ op: "NOOP" }));
  } finally {
    conn.close();
  }
});

test("QUIT replies, then the server closes the connection", async () => {
  const conn = await ProtocolConnection.open(srv.port);
  try {
    assert.deepEqual(await conn.request({ op: "QUIT", tag: 9 }), { ok: true, tag: 9 });
    await conn.closed();
    await waitUntil(() => srv.server.connections === 0, "the session has ended");
  } finally {
    conn.close();
  }
});

test("requests pipelined after QUIT are not executed and get no reply", async () => {
  const conn = await ProtocolConnection.open(srv.port);
  try {
    await writeAll(conn.socket, [
      encodeFrame(JSON.stringify({ op: "NOOP", tag: 1 })),
      encodeFrame(JSON.stringify({ op: "QUIT", tag: 2 })),
      encodeFrame(JSON.stringify({ op: "MKDIR", path: "/after-quit", tag: 3 })),
      encodeFrame(JSON.stringify({ op: "NOOP", tag: 4 })),
    ]);
    assert.deepEqual(await conn.reply(), { ok: true, tag: 1 });
    assert.deepEqual(await conn.reply(), { ok: true, tag: 2 });
    await conn.closed();
    assert.equal(conn.reader.buffered, 0, "no byte follows the QUIT reply");
    await waitUntil(() => srv.server.connections === 0, "the session has ended");
    await assert.rejects(fs.stat(path.join(srv.root, "after-quit")), { code: "ENOENT" });
  } finally {
    conn.close();
  }
});
