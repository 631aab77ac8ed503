import assert from "node:assert/strict";
import fs from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { BftpServer } from "../../src/server/server.js";
import { rejectsWithCode } from "../helpers/assert-code.js";
import { assertError, assertOk } from "../helpers/assert-reply.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";
import { ProtocolConnection } from "../helpers/protocol-connection.js";
import { testUser, usersFile } from "../helpers/test-users.js";

// Issue 7, item 1: each account's root lies inside the server's root, and is the account's
// whole world: a sandbox of its own, with every protection of the served root's.

let srv: TestServer;

before(async () => {
  const users = usersFile(
    await testUser("alice", "pw-alice", { root: "/homes/alice" }),
    await testUser("bob", "pw-bob", { root: "homes/bob/" }), // created at start
    await testUser("root", "pw-root", { root: "/" }),
  );
  const base = await startServer({ loginDelayMs: 0 });
  // The folders must exist before the accounts open, so start a second server on the root.
  await fs.mkdir(path.join(base.root, "homes", "alice"), { recursive: true });
  await fs.writeFile(path.join(base.root, "secret.txt"), "top secret");
  await fs.writeFile(path.join(base.root, "homes", "alice", "mine.txt"), "alice's");
  await fs.symlink("../../secret.txt", path.join(base.root, "homes", "alice", "link-out"));
  const server = await BftpServer.start({
    root: base.root,
    port: 0,
    limits: { loginDelayMs: 0, shutdownGraceMs: 2000 },
    accounts: { users },
  });
  srv = {
    ...base,
    server,
    port: server.address().port,
    stop: async () => {
      await server.close();
      await base.stop();
    },
  };
});

after(() => srv.stop());

async function as(user: string): Promise<ProtocolConnection> {
  const conn = await ProtocolConnection.open(srv.port);
  assertOk(await conn.request({ op: "LOGIN", user, password: `pw-${user}` }));
  return conn;
}

test("an account sees its root as / and nothing above it", async () => {
  const conn = await as("alice");
  try {
    const { entries } = await conn.list("/");
    assert.deepEqual(entries?.map((e) => e["name"]).sort(), ["link-out", "mine.txt"]);
    const { data } = await conn.get("/mine.txt");
    assert.equal(data?.toString(), "alice's");
    assertError(
      await conn.request({ op: "STAT", path: "/../secret.txt" }),
      "BFTP_ERR_PATH_REFUSED",
    );
    assertError(await conn.request({ op: "CD", path: ".." }), "BFTP_ERR_PATH_REFUSED");
    assertError(await conn.request({ op: "STAT", path: "/secret.txt" }), "BFTP_ERR_NOT_FOUND");
    // A link inside the served root but outside alice's root is outside for her.
    assertError((await conn.get("/link-out")).reply, "BFTP_ERR_PATH_REFUSED");
    assertError(
      await conn.request({ op: "RENAME", from: "/mine.txt", to: "../../stolen.txt" }),
      "BFTP_ERR_PATH_REFUSED",
    );
  } finally {
    conn.close();
  }
});

test("uploads land inside the account's root", async () => {
  const conn = await as("alice");
  try {
    assertOk(await conn.put("/up.txt", Buffer.from("uploaded")));
    assertOk(await conn.request({ op: "MKDIR", path: "/a/b", parents: true }));
    assert.equal(
      await fs.readFile(path.join(srv.root, "homes", "alice", "up.txt"), "utf8"),
      "uploaded",
    );
    await fs.stat(path.join(srv.root, "homes", "alice", "a", "b"));
  } finally {
    conn.close();
  }
});

test("a missing root is created at start; a root of / is the whole served folder", async () => {
  await fs.stat(path.join(srv.root, "homes", "bob"));
  const bob = await as("bob");
  const root = await as("root");
  try {
    const { entries } = await bob.list("/");
    assert.deepEqual(entries, []);
    assertOk(await root.request({ op: "STAT", path: "/secret.txt" }));
    assertOk(await root.request({ op: "STAT", path: "/homes/alice/mine.txt" }));
  } finally {
    bob.close();
    root.close();
  }
});

test("a root that leads outside the served folder stops the server from starting", async () => {
  await fs.symlink(srv.outside, path.join(srv.root, "escape"));
  try {
    await rejectsWithCode(
      BftpServer.start({
        root: srv.root,
        port: 0,
        accounts: { users: usersFile(await testUser("eve", "pw", { root: "/escape" })) },
      }),
      "BFTP_ERR_PATH_REFUSED",
    );
  } finally {
    await fs.rm(path.join(srv.root, "escape"));
  }
});
