import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { MAX_PATH_BYTES } from "../../src/server/sandbox.js";
import { assertError } from "../helpers/assert-reply.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";
import { ProtocolConnection } from "../helpers/protocol-connection.js";

// Found by the battery (P1): each path argument was capped at 4096 bytes, but the working
// directory plus a relative path was not, so CD then MKDIR, repeated, could grow a tree deeper
// than the file system can name (and than fs.rm can remove).
let srv: TestServer;
let conn: ProtocolConnection;

before(async () => {
  srv = await startServer();
  conn = await ProtocolConnection.open(srv.port);
});

after(async () => {
  conn.close();
  await srv.stop();
});

test("regression: CD and MKDIR cannot grow a path past the cap, one step at a time", async () => {
  const step = "d".repeat(200);
  let refusedAt = -1;
  for (let i = 0; i < 40 && refusedAt < 0; i++) {
    const made = await conn.request({ op: "MKDIR", path: step });
    if (!made.ok) {
      assertError(made, "BFTP_ERR_PATH_REFUSED");
      refusedAt = i;
      break;
    }
    assert.equal((await conn.request({ op: "CD", path: step })).ok, true);
  }
  assert.ok(refusedAt > 0, "the chain was refused once it would pass the cap");
  const cwd = await conn.request({ op: "PWD" });
  assert.ok(Buffer.byteLength(String(cwd["path"])) <= MAX_PATH_BYTES);
});
