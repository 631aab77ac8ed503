import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { BftpServer } from "../../src/server/server.js";
import { assertError, assertOk } from "../helpers/assert-reply.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";
import { ProtocolConnection } from "../helpers/protocol-connection.js";
import { testUser, usersFile } from "../helpers/test-users.js";

// Issue 7, item 2: LOGIN with accounts (PROTOCOL.md §3, §8.1 auth, §8.2). Success and
// failure, nothing but HELLO and LOGIN before it, the delay after each failure, and the
// connection closed by the third failure.

const DELAY_MS = 300;

let srv: TestServer;

before(async () => {
  srv = await startServer(
    { loginDelayMs: DELAY_MS },
    { accounts: { users: usersFile(await testUser("alice", "wonderland-7")) } },
  );
});

after(() => srv.stop());

test("HELLO says a login is required, by password", async () => {
  const conn = await ProtocolConnection.open(srv.port, { hello: false });
  try {
    const reply = await conn.request({ op: "HELLO", versions: [1] });
    assert.deepEqual(reply["auth"], { required: true, methods: ["password"] });
  } finally {
    conn.close();
  }
});

test("before LOGIN only HELLO, LOGIN, NOOP, HELP and QUIT run; the rest is BFTP_ERR_NOT_AUTHENTICATED", async () => {
  const conn = await ProtocolConnection.open(srv.port);
  try {
    for (const request of [
      { op: "PWD" },
      { op: "CD", path: "/" },
      { op: "STAT", path: "/" },
      { op: "LIST" },
      { op: "GET", path: "/x" },
      { op: "HASH", path: "/x" },
      { op: "DELETE", path: "/x" },
      { op: "MKDIR", path: "/x" },
      { op: "RMDIR", path: "/x" },
      { op: "RENAME", from: "/x", to: "/y" },
      { op: "RESUME", path: "/x" },
    ]) {
      assertError(await conn.request(request), "BFTP_ERR_NOT_AUTHENTICATED");
    }
    // A PUT refused this way still has its data phase read, so the connection stays in step.
    await conn.send({ op: "PUT", path: "/x" });
    await conn.sendData(Buffer.from("not stored"));
    assertError(await conn.reply(), "BFTP_ERR_NOT_AUTHENTICATED");
    assert.deepEqual(await conn.request({ op: "NOOP" }), { ok: true });
    assertOk(await conn.request({ op: "HELP" }));
  } finally {
    conn.close();
  }
});

test("LOGIN with the right password succeeds and opens the commands", async () => {
  const conn = await ProtocolConnection.open(srv.port);
  try {
    const reply = await conn.request({ op: "LOGIN", user: "alice", password: "wonderland-7" });
    assert.deepEqual(reply, {
      ok: true,
      user: "alice",
      permissions: ["read", "write", "delete", "mkdir"],
    });
    assert.deepEqual(await conn.request({ op: "PWD" }), { ok: true, path: "/" });
    assertError(
      await conn.request({ op: "LOGIN", user: "alice", password: "wonderland-7" }),
      "BFTP_ERR_BAD_REQUEST",
    );
  } finally {
    conn.close();
  }
});

test("a wrong password, an unknown user, no password and anonymous are BFTP_ERR_LOGIN_FAILED", async () => {
  for (const request of [
    { op: "LOGIN", user: "alice", password: "Wonderland-7" },
    { op: "LOGIN", user: "mallory", password: "wonderland-7" },
    { op: "LOGIN", user: "alice" },
    { op: "LOGIN", user: "anonymous" },
  ]) {
    const conn = await ProtocolConnection.open(srv.port);
    try {
      assertError(await conn.request(request), "BFTP_ERR_LOGIN_FAILED");
      assertError(await conn.request({ op: "PWD" }), "BFTP_ERR_NOT_AUTHENTICATED");
    } finally {
      conn.close();
    }
  }
});

test("each failure is answered after the delay; the third closes the connection", async () => {
  const conn = await ProtocolConnection.open(srv.port);
  try {
    for (let i = 1; i <= 3; i++) {
      const started = performance.now();
      const reply = await conn.request({ op: "LOGIN", user: "alice", password: `guess-${i}` });
      const elapsed = performance.now() - started;
      assertError(reply, "BFTP_ERR_LOGIN_FAILED");
      assert.ok(elapsed >= DELAY_MS - 5, `failure ${i} answered after ${elapsed} ms`);
      assert.equal(reply["close"], i === 3 ? true : undefined);
    }
    await conn.closed(5000);
  } finally {
    conn.close();
  }
});

test("pipelined LOGINs cannot escape the delay: each waits its turn, and the third closes", async () => {
  const conn = await ProtocolConnection.open(srv.port);
  try {
    const started = performance.now();
    for (let i = 0; i < 10; i++) await conn.send({ op: "LOGIN", user: "alice", password: `p${i}` });
    const arrivals: number[] = [];
    for (let i = 0; i < 3; i++) {
      assertError(await conn.reply(), "BFTP_ERR_LOGIN_FAILED");
      arrivals.push(performance.now() - started);
    }
    assert.ok(arrivals[2] !== undefined && arrivals[2] >= 3 * DELAY_MS - 15, String(arrivals));
    await conn.closed(5000);
  } finally {
    conn.close();
  }
});

test("a failed login then a right one works, and the count is per connection", async () => {
  const conn = await ProtocolConnection.open(srv.port);
  try {
    assertError(
      await conn.request({ op: "LOGIN", user: "alice", password: "nope" }),
      "BFTP_ERR_LOGIN_FAILED",
    );
    assertOk(await conn.request({ op: "LOGIN", user: "alice", password: "wonderland-7" }));
    assertOk(await conn.request({ op: "STAT", path: "/" }));
  } finally {
    conn.close();
  }
});

test("the password never reaches the server's log", async () => {
  const logged: string[] = [];
  const record = (level: string) => (event: string, fields?: object) => {
    logged.push(JSON.stringify({ level, event, ...fields }));
  };
  const server = await BftpServer.start({
    root: srv.root,
    port: 0,
    sweep: false,
    limits: { loginDelayMs: 0 },
    log: { info: record("info"), warn: record("warn"), error: record("error") },
    accounts: { users: usersFile(await testUser("alice", "wonderland-7")) },
  });
  try {
    const conn = await ProtocolConnection.open(server.address().port);
    assertError(
      await conn.request({ op: "LOGIN", user: "alice", password: "secret-guess-41" }),
      "BFTP_ERR_LOGIN_FAILED",
    );
    assertOk(await conn.request({ op: "LOGIN", user: "alice", password: "wonderland-7" }));
    await conn.request({ op: "QUIT" });
    await conn.closed();
  } finally {
    await server.close();
  }
  const all = logged.join("\n");
  assert.match(all, /"event":"login-failed"/u);
  assert.match(all, /"event":"login"/u);
  assert.doesNotMatch(all, /secret-guess-41|wonderland-7/u);
});
