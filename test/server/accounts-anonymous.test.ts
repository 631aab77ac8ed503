import assert from "node:assert/strict";
import fs from "node:fs/promises";
import path from "node:path";
import { test } from "node:test";
import type { Permission } from "../../src/server/accounts/permissions.js";
import { assertError, assertOk } from "../helpers/assert-reply.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";
import { ProtocolConnection } from "../helpers/protocol-connection.js";
import { testUser, usersFile } from "../helpers/test-users.js";

// Issue 7, item 2: with accounts, anonymous access only when the operator turns it on, and
// then read-only unless the operator grants more. Without accounts, nothing changes.

async function withServer(
  anonymous: readonly Permission[] | undefined,
  body: (srv: TestServer) => Promise<void>,
): Promise<void> {
  const users = usersFile(await testUser("alice", "pw-alice", { root: "/alice" }));
  const srv = await startServer(
    { loginDelayMs: 0 },
    { accounts: anonymous === undefined ? { users } : { users, anonymous } },
  );
  try {
    await fs.writeFile(path.join(srv.root, "public.txt"), "hello");
    await body(srv);
  } finally {
    await srv.stop();
  }
}

test("without accounts HELLO offers anonymous, not required, and anonymous may write", async () => {
  const srv = await startServer();
  try {
    const conn = await ProtocolConnection.open(srv.port, { hello: false });
    const hello = await conn.request({ op: "HELLO", versions: [1] });
    assert.deepEqual(hello["auth"], { required: false, methods: ["anonymous"] });
    assertOk(await conn.put("/new.txt", Buffer.from("x")));
    assertOk(await conn.request({ op: "MKDIR", path: "/d" }));
    assertOk(await conn.request({ op: "RENAME", from: "/new.txt", to: "/d/new.txt" }));
    assertOk(await conn.request({ op: "DELETE", path: "/d/new.txt" }));
    conn.close();
  } finally {
    await srv.stop();
  }
});

test("with accounts and --anonymous, HELLO offers both and anonymous may only read", async () => {
  await withServer(["read"], async (srv) => {
    const conn = await ProtocolConnection.open(srv.port, { hello: false });
    try {
      const hello = await conn.request({ op: "HELLO", versions: [1] });
      assert.deepEqual(hello["auth"], { required: false, methods: ["password", "anonymous"] });
      const { data } = await conn.get("/public.txt");
      assert.equal(data?.toString(), "hello");
      assertError(await conn.put("/up.txt", Buffer.from("x")), "BFTP_ERR_FORBIDDEN");
      assertError(await conn.request({ op: "MKDIR", path: "/d" }), "BFTP_ERR_FORBIDDEN");
      assertError(await conn.request({ op: "DELETE", path: "/public.txt" }), "BFTP_ERR_FORBIDDEN");
      await assert.rejects(fs.stat(path.join(srv.root, "up.txt")));
      // LOGIN as anonymous is allowed too, and so is moving on to an account.
      assertOk(await conn.request({ op: "LOGIN", user: "anonymous" }));
      const login = await conn.request({ op: "LOGIN", user: "alice", password: "pw-alice" });
      assert.equal(login["user"], "alice");
      assertOk(await conn.put("/up.txt", Buffer.from("x")));
      await fs.stat(path.join(srv.root, "alice", "up.txt")); // inside alice's root
    } finally {
      conn.close();
    }
  });
});

test("the operator may grant anonymous more than read", async () => {
  await withServer(["read", "write"], async (srv) => {
    const conn = await ProtocolConnection.open(srv.port);
    try {
      assertOk(await conn.put("/up.txt", Buffer.from("x")));
      assertError(await conn.request({ op: "DELETE", path: "/up.txt" }), "BFTP_ERR_FORBIDDEN");
    } finally {
      conn.close();
    }
  });
});

test("with accounts and without --anonymous, anonymous is refused", async () => {
  await withServer(undefined, async (srv) => {
    const conn = await ProtocolConnection.open(srv.port);
    try {
      assertError(await conn.request({ op: "LOGIN", user: "anonymous" }), "BFTP_ERR_LOGIN_FAILED");
      assertError(await conn.request({ op: "STAT", path: "/" }), "BFTP_ERR_NOT_AUTHENTICATED");
    } finally {
      conn.close();
    }
  });
});
