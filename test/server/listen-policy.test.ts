import assert from "node:assert/strict";
import { test } from "node:test";
import { isLoopbackHost, missingSafeguards } from "../../src/server/listen-policy.js";

test("isLoopbackHost: loopback names and addresses only", () => {
  for (const host of ["localhost", "127.0.0.1", "127.9.8.7", "::1", "[::1]", "::ffff:127.0.0.1"]) {
    assert.equal(isLoopbackHost(host), true, host);
  }
  for (const host of ["0.0.0.0", "::", "192.168.1.10", "10.0.0.1", "::ffff:10.0.0.1", "fe80::1"]) {
    assert.equal(isLoopbackHost(host), false, host);
  }
  // A name DNS may point anywhere is treated as exposed.
  assert.equal(isLoopbackHost("files.example"), false);
  assert.equal(isLoopbackHost("128.0.0.1"), false);
});

test("missingSafeguards: beyond loopback both accounts and TLS are needed", () => {
  assert.deepEqual(missingSafeguards({ host: "127.0.0.1", tls: false, accounts: false }), []);
  assert.deepEqual(missingSafeguards({ host: "0.0.0.0", tls: true, accounts: true }), []);
  assert.deepEqual(missingSafeguards({ host: "0.0.0.0", tls: false, accounts: false }), [
    "accounts",
    "tls",
  ]);
  assert.deepEqual(missingSafeguards({ host: "::", tls: true, accounts: false }), ["accounts"]);
  assert.deepEqual(missingSafeguards({ host: "10.0.0.1", tls: false, accounts: true }), ["tls"]);
});
