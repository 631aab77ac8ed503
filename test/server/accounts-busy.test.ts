import assert from "node:assert/strict";
import { test } from "node:test";
import { assertError, assertOk } from "../helpers/assert-reply.js";
import { startServer } from "../helpers/bftp-server.js";
import { ProtocolConnection, type Body } from "../helpers/protocol-connection.js";
import { testUser, usersFile } from "../helpers/test-users.js";

// Issue 7, item 1: concurrent hash computations are limited, so a burst of logins cannot
// exhaust memory. With one computation at a time and no queue, logins that arrive together
// are refused with BFTP_ERR_BUSY (not fatal, not counted as a failure) while one runs.

test("a burst of LOGINs beyond the hash gate is refused with BFTP_ERR_BUSY, not fatally", async () => {
  const srv = await startServer(
    { loginDelayMs: 0 },
    {
      accounts: {
        users: usersFile(await testUser("alice", "pw", { logN: 14 })), // 16 MiB, tens of ms
        maxConcurrentHashes: 1,
        maxQueuedHashes: 0,
      },
    },
  );
  const conns = await Promise.all(
    Array.from({ length: 6 }, () => ProtocolConnection.open(srv.port)),
  );
  try {
    // Every request is on the wire before any hash can finish.
    await Promise.all(conns.map((c) => c.send({ op: "LOGIN", user: "alice", password: "pw" })));
    const replies: Body[] = await Promise.all(conns.map((c) => c.reply()));
    const ok = replies.filter((r) => r.ok);
    const busy = replies.filter((r) => !r.ok);
    assert.ok(ok.length >= 1, JSON.stringify(replies));
    assert.ok(busy.length >= 1, JSON.stringify(replies));
    for (const reply of busy) {
      assertError(reply, "BFTP_ERR_BUSY");
      assert.equal(reply["close"], undefined);
    }
    // The refused connections are still open and may try again.
    for (const [i, conn] of conns.entries()) {
      if (replies[i]?.ok === true) continue;
      assertOk(await conn.request({ op: "LOGIN", user: "alice", password: "pw" }));
    }
  } finally {
    for (const conn of conns) conn.close();
    await srv.stop();
  }
});
