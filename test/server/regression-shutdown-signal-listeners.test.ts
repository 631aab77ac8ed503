import assert from "node:assert/strict";
import { setImmediate as nextTurn } from "node:timers/promises";
import { test } from "node:test";
import { startServer } from "../helpers/bftp-server.js";
import { ProtocolConnection } from "../helpers/protocol-connection.js";

// Issue 6 (battery S4): every idle session waits on the server's shutdown signal, so eleven
// idle sessions made Node print "MaxListenersExceededWarning: Possible EventTarget memory leak"
// on the server's stderr. The listeners are removed when each wait ends; it is no leak, and
// the server must not warn of one.

test("twenty idle sessions raise no MaxListenersExceededWarning", async () => {
  const warnings: string[] = [];
  const onWarning = (warning: Error): void => {
    warnings.push(warning.name);
  };
  process.on("warning", onWarning);
  const srv = await startServer();
  const conns: ProtocolConnection[] = [];
  try {
    for (let i = 0; i < 20; i++) conns.push(await ProtocolConnection.open(srv.port));
    assert.equal(srv.server.connections, 20);
    await nextTurn(); // warnings are emitted on the next tick
    assert.deepEqual(
      warnings.filter((name) => name === "MaxListenersExceededWarning"),
      [],
    );
  } finally {
    process.off("warning", onWarning);
    for (const conn of conns) conn.close();
    await srv.stop();
  }
});
