// Issue 15, acceptance: "the S3 backend passes the same command tests as the disk backend
// against the real gateway". The server tests below run again here with BFTP_TEST_BACKEND=s3,
// which makes startServer() serve a fresh bucket of the test gateway (Ceph RGW, started by
// scripts/run-tests.sh, or by test/helpers/s3-gateway.ts when this file runs alone), and
// `srv.files` arrange and check the files in that bucket: the same requests, the same
// assertions. A test of something only a disk has says so and is skipped here.
import assert from "node:assert/strict";
import { test } from "node:test";
import { startServer } from "../helpers/bftp-server.js";
import { ProtocolConnection } from "../helpers/protocol-connection.js";

process.env["BFTP_TEST_BACKEND"] = "s3"; // read by startServer when each test starts its server

const SUBSET = [
  "./commands-get.test.js",
  "./commands-put.test.js",
  "./commands-pwd-cd.test.js",
  "./commands-stat.test.js",
  "./commands-rename.test.js",
  "./commands-delete-mkdir-rmdir.test.js",
  "./commands-resume.test.js",
  "./commands-hash.test.js",
  "./commands-list.test.js",
  "./commands-hello-login.test.js",
  "./pipelining.test.js",
  "./commands-abort.test.js",
  "./commands-get-version.test.js",
  "./commands-request-shape.test.js",
  "./commands-noop-help-quit.test.js",
];

// Imported in turn: each registers its tests (and its before/after hooks) in this process.
for (const file of SUBSET) await import(file);

test("the helpers the tests above use do serve an S3 bucket here, without tree streams", async () => {
  const srv = await startServer();
  const conn = await ProtocolConnection.open(srv.port, { hello: false });
  try {
    assert.equal(srv.backend, "s3");
    assert.ok(srv.s3 !== undefined);
    const hello = await conn.request({ op: "HELLO", versions: [1] });
    const capabilities = hello["capabilities"] as string[];
    assert.ok(capabilities.includes("resume"));
    for (const tree of ["tree", "puttree", "tree-list", "puttree-offer"]) {
      assert.ok(!capabilities.includes(tree), `${tree} is not announced on an object store`);
    }
    const refused = await conn.request({ op: "GETTREE", path: "/" });
    assert.deepEqual(
      refused["error"] && (refused["error"] as { code: string }).code,
      "BFTP_ERR_NOT_SUPPORTED",
    );
  } finally {
    conn.close();
    await srv.stop();
  }
});
