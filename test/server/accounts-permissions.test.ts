import assert from "node:assert/strict";
import fs from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { PERMISSIONS, type Permission } from "../../src/server/accounts/permissions.js";
import { walkTree } from "../fixtures/tree-snapshot.js";
import { assertError } from "../helpers/assert-reply.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";
import { ProtocolConnection, type Body } from "../helpers/protocol-connection.js";
import { testUser, usersFile } from "../helpers/test-users.js";

// Issue 7, item 1: each permission enforced for every command. Every command runs as one
// user per set of permissions; a user without what the command needs gets
// BFTP_ERR_FORBIDDEN and the tree is unchanged, a user with it gets past the check.

/** Users by the permissions they hold: each one alone, none, and all. */
const USERS: Readonly<Record<string, readonly Permission[]>> = {
  none: [],
  r: ["read"],
  w: ["write"],
  d: ["delete"],
  m: ["mkdir"],
  wd: ["write", "delete"],
  all: PERMISSIONS,
};

interface Case {
  readonly name: string;
  readonly needs: readonly Permission[];
  /** Runs the command as user `u` (names made unique by `u`); resolves with the reply. */
  readonly run: (conn: ProtocolConnection, u: string) => Promise<Body>;
  /** The code a permitted run may end with instead of ok (RESUME with no partial upload). */
  readonly permittedCode?: string;
}

const CASES: readonly Case[] = [
  { name: "PWD", needs: ["read"], run: (c) => c.request({ op: "PWD" }) },
  { name: "CD", needs: ["read"], run: (c) => c.request({ op: "CD", path: "/sub" }) },
  { name: "STAT", needs: ["read"], run: (c) => c.request({ op: "STAT", path: "/file.txt" }) },
  { name: "LIST", needs: ["read"], run: async (c) => (await c.list("/")).reply },
  { name: "GET", needs: ["read"], run: async (c) => (await c.get("/file.txt")).reply },
  { name: "HASH", needs: ["read"], run: (c) => c.request({ op: "HASH", path: "/file.txt" }) },
  { name: "PUT", needs: ["write"], run: (c, u) => c.put(`/new-${u}.txt`, Buffer.from("new")) },
  {
    name: "PUT overwrite",
    needs: ["write", "delete"],
    run: (c, u) => c.put(`/victim-${u}.txt`, Buffer.from("replaced"), { overwrite: true }),
  },
  {
    name: "RESUME",
    needs: ["write"],
    run: (c) => c.request({ op: "RESUME", path: "/file.txt" }),
    permittedCode: "BFTP_ERR_NOT_FOUND",
  },
  {
    name: "DELETE",
    needs: ["delete"],
    run: (c, u) => c.request({ op: "DELETE", path: `/victim-${u}.txt` }),
  },
  {
    name: "RMDIR",
    needs: ["delete"],
    run: (c, u) => c.request({ op: "RMDIR", path: `/empty-${u}` }),
  },
  {
    name: "RENAME",
    needs: ["delete"],
    run: (c, u) => c.request({ op: "RENAME", from: `/victim-${u}.txt`, to: `/moved-${u}.txt` }),
  },
  { name: "MKDIR", needs: ["mkdir"], run: (c, u) => c.request({ op: "MKDIR", path: `/mk-${u}` }) },
  {
    name: "MKDIR -p",
    needs: ["mkdir"],
    run: (c, u) => c.request({ op: "MKDIR", path: `/p-${u}/q`, parents: true }),
  },
];

let srv: TestServer;
let home: string;

before(async () => {
  const users = await Promise.all(
    Object.entries(USERS).map(([name, permissions]) =>
      testUser(name, `pw-${name}`, { root: "/home", permissions }),
    ),
  );
  srv = await startServer({ loginDelayMs: 0 }, { accounts: { users: usersFile(...users) } });
  home = path.join(srv.root, "home");
});

after(() => srv.stop());

/** A fresh home for user `u`'s run of one case. */
async function prepare(u: string): Promise<void> {
  await fs.rm(home, { recursive: true, force: true });
  await fs.mkdir(path.join(home, "sub"), { recursive: true });
  await fs.mkdir(path.join(home, `empty-${u}`));
  await fs.writeFile(path.join(home, "file.txt"), "content");
  await fs.writeFile(path.join(home, `victim-${u}.txt`), "victim");
}

async function snapshot(): Promise<string> {
  const entries = await walkTree(home);
  return JSON.stringify(entries.map((e) => [e.rel, e.type, e.size, e.ino]));
}

for (const c of CASES) {
  test(`${c.name} needs ${c.needs.join(" and ")}`, async () => {
    for (const [u, granted] of Object.entries(USERS)) {
      await prepare(u);
      const conn = await ProtocolConnection.open(srv.port);
      try {
        const login = await conn.request({ op: "LOGIN", user: u, password: `pw-${u}` });
        assert.equal(login["user"], u);
        const before = await snapshot();
        const reply = await c.run(conn, u);
        const permitted = c.needs.every((p) => granted.includes(p));
        if (permitted) {
          const shown = `${c.name} as ${u}: ${JSON.stringify(reply)}`;
          if (reply.ok) continue;
          assert.equal(reply.error?.code, c.permittedCode, shown);
        } else {
          assertError(reply, "BFTP_ERR_FORBIDDEN");
          assert.equal(await snapshot(), before, `${c.name} as ${u} changed the tree`);
          // The refusal is not fatal: the connection goes on.
          assert.deepEqual(await conn.request({ op: "NOOP" }), { ok: true });
        }
      } finally {
        conn.close();
      }
    }
  });
}

test("RENAME with overwrite needs delete, and a write-only user cannot replace a file", async () => {
  await prepare("w");
  const conn = await ProtocolConnection.open(srv.port);
  try {
    await conn.request({ op: "LOGIN", user: "w", password: "pw-w" });
    assertError(
      await conn.put("/file.txt", Buffer.from("replaced"), { overwrite: true }),
      "BFTP_ERR_FORBIDDEN",
    );
    assertError(
      await conn.request({ op: "RENAME", from: "/victim-w.txt", to: "/file.txt", overwrite: true }),
      "BFTP_ERR_FORBIDDEN",
    );
    assert.equal(await fs.readFile(path.join(home, "file.txt"), "utf8"), "content");
  } finally {
    conn.close();
  }
});

test("pipelined GETs and STATs, prepared ahead of their turn, are checked like any other", async () => {
  await prepare("w");
  const conn = await ProtocolConnection.open(srv.port);
  try {
    // LOGIN and six read requests in one burst: the session prepares GET and STAT requests
    // ahead (issue 5), and a user without read must still be refused every one, in order.
    await conn.send({ op: "LOGIN", user: "w", password: "pw-w", tag: 0 });
    for (let i = 1; i <= 6; i++) {
      await conn.send({ op: i % 2 === 0 ? "STAT" : "GET", path: "/file.txt", tag: i });
    }
    const login = await conn.reply();
    assert.equal(login["user"], "w");
    for (let i = 1; i <= 6; i++) {
      const reply = await conn.reply();
      assertError(reply, "BFTP_ERR_FORBIDDEN");
      assert.equal(reply["tag"], i);
    }
  } finally {
    conn.close();
  }
  const reader = await ProtocolConnection.open(srv.port);
  try {
    await reader.send({ op: "LOGIN", user: "r", password: "pw-r" });
    for (let i = 0; i < 4; i++) await reader.send({ op: "STAT", path: "/file.txt", tag: i });
    assert.equal((await reader.reply())["user"], "r");
    for (let i = 0; i < 4; i++) {
      const reply = await reader.reply();
      assert.equal(reply.ok, true, JSON.stringify(reply));
      assert.equal(reply["tag"], i);
    }
  } finally {
    reader.close();
  }
});
