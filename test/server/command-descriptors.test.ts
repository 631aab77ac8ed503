// Issue 14, item 1: one descriptor per BFTP command. The registry holds every op of the
// protocol's schema under its own name; HELP lists exactly the registry; each op's gate and
// permissions are what PROTOCOL.md §3 and §8.2 say, checked on a real server.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { REQUESTS, SUMMARIES, type Op } from "../../src/protocol/requests.js";
import { COMMANDS } from "../../src/server/commands/index.js";
import { assertError } from "../helpers/assert-reply.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";
import { ProtocolConnection } from "../helpers/protocol-connection.js";
import { testUser, usersFile } from "../helpers/test-users.js";

const OPS = Object.keys(REQUESTS) as Op[];

/** A request of `op` that passes its schema. */
function valid(op: Op): Record<string, unknown> {
  if (["PWD", "ABORT", "NOOP", "HELP", "QUIT", "LIST"].includes(op)) return { op };
  if (op === "RENAME") return { op, from: "/a", to: "/b" };
  if (op === "LOGIN") return { op, user: "ann", password: "pw" };
  return { op, path: "/x" };
}

/** PROTOCOL.md §3: what runs before HELLO, and before a login. */
const BEFORE_HELLO = ["HELLO", "NOOP", "HELP", "QUIT"];
const BEFORE_LOGIN = [...BEFORE_HELLO, "LOGIN"];

/** PROTOCOL.md §8.2's permission table, without `overwrite`. */
const PERMISSIONS: Readonly<Record<string, readonly string[]>> = {
  PWD: ["read"],
  CD: ["read"],
  STAT: ["read"],
  LIST: ["read"],
  GET: ["read"],
  GETTREE: ["read"],
  HASH: ["read"],
  PUT: ["write"],
  RESUME: ["write"],
  PUTTREE: ["write", "mkdir"],
  DELETE: ["delete"],
  RMDIR: ["delete"],
  RENAME: ["delete"],
  MKDIR: ["mkdir"],
};

test("every op has one descriptor, under its own name, with its schema and summary", () => {
  assert.deepEqual(Object.keys(COMMANDS).sort(), [...OPS].sort());
  for (const op of OPS) {
    const d = COMMANDS[op];
    assert.equal(d.op, op);
    assert.equal(d.schema, REQUESTS[op]);
    assert.equal(d.summary, SUMMARIES[op]);
  }
});

test("gates and permissions are PROTOCOL.md's, and overwrite adds delete", () => {
  for (const op of OPS) {
    const d = COMMANDS[op];
    const expected = BEFORE_HELLO.includes(op) ? "any" : op === "LOGIN" ? "hello" : "session";
    assert.equal(d.gate, expected, op);
    const needs = (d.permissions as (r: unknown) => readonly string[])({ op });
    assert.deepEqual([...needs], [...(PERMISSIONS[op] ?? [])], op);
  }
  assert.deepEqual(COMMANDS.PUT.permissions({ op: "PUT", path: "/x", overwrite: true }), [
    "write",
    "delete",
  ]);
  assert.ok(
    COMMANDS.PUTTREE.permissions({ op: "PUTTREE", path: "/", overwrite: true }).includes("delete"),
  );
});

let srv: TestServer;
before(async () => {
  srv = await startServer(
    { loginDelayMs: 0 },
    { accounts: { users: usersFile(await testUser("ann", "pw")) } },
  );
});
after(() => srv.stop());

test("on a real server: each op before HELLO and before LOGIN is refused as its gate says", async () => {
  // PUT and PUTTREE are followed by a data phase: their gates are tested with it elsewhere.
  const plain = OPS.filter((o) => !["PUT", "PUTTREE", "GETTREE"].includes(o));
  for (const op of plain.filter((o) => !BEFORE_HELLO.includes(o))) {
    const conn = await ProtocolConnection.open(srv.port, { hello: false });
    try {
      assertError(await conn.request(valid(op)), "BFTP_ERR_BAD_REQUEST");
    } finally {
      conn.close();
    }
  }
  for (const op of plain.filter((o) => !BEFORE_LOGIN.includes(o))) {
    const conn = await ProtocolConnection.open(srv.port);
    try {
      assertError(await conn.request(valid(op)), "BFTP_ERR_NOT_AUTHENTICATED");
    } finally {
      conn.close();
    }
  }
});

test("HELP lists exactly the registry's commands and summaries", async () => {
  const conn = await ProtocolConnection.open(srv.port);
  try {
    const reply = (await conn.request({ op: "HELP" })) as unknown as {
      commands: { op: string; summary: string }[];
    };
    assert.deepEqual(
      reply.commands.map((c) => [c.op, c.summary]).sort(),
      OPS.map((op) => [op, COMMANDS[op].summary]).sort(),
    );
  } finally {
    conn.close();
  }
});
