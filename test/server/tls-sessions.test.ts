// Issue 7: a TLSSocket is a net.Socket, so sessions should behave the same over TLS. These
// server tests run again here with BFTP_TEST_TLS=1, which makes startServer() speak TLS and
// ProtocolConnection connect with it: half-close after pipelined requests, pipelining,
// GET/PUT/ABORT/RESUME data phases, fatal framing errors, frame caps, idle and frame
// deadlines, and graceful shutdown. Left out, because they reach under the socket: raw TCP
// resets (acceptance-put-kill), connections from chosen source addresses
// (limits-connections) and the Python raw client (acceptance-raw-client).
import assert from "node:assert/strict";
import { test } from "node:test";
import tls from "node:tls";
import { startServer } from "../helpers/bftp-server.js";
import { ProtocolConnection } from "../helpers/protocol-connection.js";

process.env["BFTP_TEST_TLS"] = "1"; // read by the helpers when each test starts its server

const SUBSET = [
  "./session-half-close.test.js",
  "./pipelining.test.js",
  "./commands-get.test.js",
  "./commands-put.test.js",
  "./commands-abort.test.js",
  "./commands-resume.test.js",
  "./session-fatal-errors.test.js",
  "./limits-frame-size.test.js",
  "./limits-timeouts.test.js",
  "./session-shutdown.test.js",
];

// Imported in turn: each registers its tests (and its before/after hooks) in this process.
for (const file of SUBSET) await import(file);

test("the helpers the tests above use do speak TLS here", async () => {
  const srv = await startServer();
  const conn = await ProtocolConnection.open(srv.port);
  try {
    assert.equal(srv.server.tls, true);
    assert.ok(conn.socket instanceof tls.TLSSocket);
    assert.match(conn.socket.getProtocol() ?? "", /^TLSv1\.[23]$/);
    assert.deepEqual(await conn.request({ op: "NOOP" }), { ok: true });
  } finally {
    conn.close();
    await srv.stop();
  }
});
