import assert from "node:assert/strict";
import fs from "node:fs/promises";
import { after, before, test } from "node:test";
import { assertError, assertOk } from "../helpers/assert-reply.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";
import { ProtocolConnection } from "../helpers/protocol-connection.js";

// PROTOCOL.md §3 (the conversation starts with HELLO), §8.1 HELLO and §8.2 LOGIN.

/** Run again against an object store by s3-sessions.test.ts (BFTP_TEST_BACKEND=s3). */
const onS3 = process.env["BFTP_TEST_BACKEND"] === "s3";
let srv: TestServer;

before(async () => {
  srv = await startServer({ idleTimeoutMs: 60_000, maxChunk: 65_536, loginDelayMs: 50 });
});

after(() => srv.stop());

async function fresh(): Promise<ProtocolConnection> {
  return ProtocolConnection.open(srv.port, { hello: false });
}

test("HELLO agrees on version 1 and reports the server's limits and capabilities", async () => {
  const conn = await fresh();
  try {
    const reply = await conn.request({ op: "HELLO", versions: [1], client: "test/1.0", tag: "h" });
    const { limits } = srv.server;
    assert.deepEqual(reply, {
      ok: true,
      version: 1,
      server: reply["server"],
      auth: { required: false, methods: ["anonymous"] },
      limits: {
        maxControlFrame: limits.maxControlFrame,
        maxChunk: 65_536,
        readAheadBytes: limits.readAheadBytes,
        idleTimeoutMs: 60_000,
        frameTimeoutMs: limits.frameTimeoutMs,
        stallTimeoutMs: limits.stallTimeoutMs,
      },
      checksums: ["crc32", "sha256"],
      // An object store announces no tree streams (PROTOCOL.md §8.1).
      capabilities: [
        "pipelining",
        "resume",
        "range",
        "abort",
        "mkdir-parents",
        ...(onS3 ? [] : ["tree", "puttree", "tree-list", "puttree-offer"]),
      ],
      tag: "h",
    });
    const pkg = JSON.parse(
      await fs.readFile(new URL("../../../package.json", import.meta.url), "utf8"),
    ) as { version: string };
    assert.equal(reply["server"], `bftp/${pkg.version}`);
  } finally {
    conn.close();
  }
});

test("HELLO picks the version it shares from a list of several", async () => {
  const conn = await fresh();
  try {
    const reply = await conn.request({ op: "HELLO", versions: [3, 1, 2] });
    assertOk(reply);
    assert.equal(reply["version"], 1);
  } finally {
    conn.close();
  }
});

test("HELLO offering only versions the server does not speak is BFTP_ERR_UNSUPPORTED_VERSION", async () => {
  const conn = await fresh();
  try {
    assertError(await conn.request({ op: "HELLO", versions: [2] }), "BFTP_ERR_UNSUPPORTED_VERSION");
    // Not fatal: the client may offer again.
    assertOk(await conn.request({ op: "HELLO", versions: [1] }));
  } finally {
    conn.close();
  }
});

test("a second HELLO is BFTP_ERR_BAD_REQUEST and the session goes on", async () => {
  const conn = await ProtocolConnection.open(srv.port);
  try {
    assertError(await conn.request({ op: "HELLO", versions: [1] }), "BFTP_ERR_BAD_REQUEST");
    assert.deepEqual(await conn.request({ op: "PWD" }), { ok: true, path: "/" });
  } finally {
    conn.close();
  }
});

test("HELLO with malformed versions is BFTP_ERR_BAD_REQUEST", async () => {
  const conn = await fresh();
  try {
    for (const versions of [[], "1", [1.5], ["1"], null]) {
      assertError(await conn.request({ op: "HELLO", versions }), "BFTP_ERR_BAD_REQUEST");
    }
    assertError(await conn.request({ op: "HELLO" }), "BFTP_ERR_BAD_REQUEST");
    assertOk(await conn.request({ op: "HELLO", versions: [1] }));
  } finally {
    conn.close();
  }
});

test("a command before HELLO is BFTP_ERR_BAD_REQUEST; the connection stays open", async () => {
  const conn = await fresh();
  try {
    for (const request of [
      { op: "PWD" },
      { op: "STAT", path: "/" },
      { op: "LIST" },
      { op: "GET", path: "/x" },
      { op: "LOGIN", user: "anonymous" },
    ]) {
      assertError(await conn.request(request), "BFTP_ERR_BAD_REQUEST");
    }
    assertOk(await conn.request({ op: "HELLO", versions: [1] }));
    assertOk(await conn.request({ op: "PWD" }));
  } finally {
    conn.close();
  }
});

test("a PUT before HELLO is refused and its data phase is read and discarded", async () => {
  const conn = await fresh();
  try {
    await conn.send({ op: "PUT", path: "/early.txt" });
    await conn.sendData(Buffer.from("too early"));
    assertError(await conn.reply(), "BFTP_ERR_BAD_REQUEST");
    assertOk(await conn.request({ op: "HELLO", versions: [1] }));
    assertError(await conn.request({ op: "STAT", path: "/early.txt" }), "BFTP_ERR_NOT_FOUND");
    assert.equal(await srv.files.exists("early.txt"), false);
  } finally {
    conn.close();
  }
});

test("NOOP, HELP and QUIT are accepted before HELLO", async () => {
  const conn = await fresh();
  try {
    assert.deepEqual(await conn.request({ op: "NOOP" }), { ok: true });
    assertOk(await conn.request({ op: "HELP" }));
    assert.deepEqual(await conn.request({ op: "QUIT" }), { ok: true });
    await conn.closed();
  } finally {
    conn.close();
  }
});

test("LOGIN as anonymous succeeds and names the user", async () => {
  const conn = await ProtocolConnection.open(srv.port);
  try {
    assert.deepEqual(await conn.request({ op: "LOGIN", user: "anonymous", tag: 1 }), {
      ok: true,
      user: "anonymous",
      permissions: ["read", "write", "delete", "mkdir"],
      tag: 1,
    });
    assertOk(await conn.request({ op: "LOGIN", user: "anonymous", password: "" }));
    assertOk(await conn.request({ op: "STAT", path: "/" }));
  } finally {
    conn.close();
  }
});

test("LOGIN as any other user on a server without accounts is BFTP_ERR_LOGIN_FAILED, not fatal", async () => {
  const conn = await ProtocolConnection.open(srv.port);
  try {
    assertError(await conn.request({ op: "LOGIN", user: "root" }), "BFTP_ERR_LOGIN_FAILED");
    assertError(
      await conn.request({ op: "LOGIN", user: "alice", password: "secret" }),
      "BFTP_ERR_LOGIN_FAILED",
    );
    assert.deepEqual(await conn.request({ op: "NOOP" }), { ok: true });
  } finally {
    conn.close();
  }
});

test("LOGIN without a user, or with a password that is not a string, is BFTP_ERR_BAD_REQUEST", async () => {
  const conn = await ProtocolConnection.open(srv.port);
  try {
    assertError(await conn.request({ op: "LOGIN" }), "BFTP_ERR_BAD_REQUEST");
    assertError(
      await conn.request({ op: "LOGIN", user: "anonymous", password: 1 }),
      "BFTP_ERR_BAD_REQUEST",
    );
  } finally {
    conn.close();
  }
});
