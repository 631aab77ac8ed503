// Issue 14, item 3: BFTP's key login (PROTOCOL.md §8.2.1) on the wire: a challenge per
// LOGIN, a signature over it that proves one login on one connection, and every refusal the
// same code as a wrong password.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import ssh2, { type ParsedKey } from "ssh2";
import { loginSignedData, signatureHash } from "../../src/protocol/key-login.js";
import { assertError, assertOk } from "../helpers/assert-reply.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";
import { ProtocolConnection } from "../helpers/protocol-connection.js";
import { testUser, usersFile } from "../helpers/test-users.js";

function keyPair(type: "ed25519" | "rsa"): { key: ParsedKey; line: string } {
  const pair = ssh2.utils.generateKeyPairSync(type, type === "rsa" ? { bits: 2048 } : {});
  const key = ssh2.utils.parseKey(pair.private) as ParsedKey;
  return { key, line: pair.public };
}

const alice = keyPair("ed25519");
const aliceRsa = keyPair("rsa");
const stranger = keyPair("ed25519");
let srv: TestServer;

before(async () => {
  const user = await testUser("alice", "alice-pw");
  srv = await startServer(
    { loginDelayMs: 50 },
    { accounts: { users: usersFile({ ...user, keys: [alice.line, aliceRsa.line] }) } },
  );
});
after(() => srv.stop());

const blobOf = (k: ParsedKey): string => k.getPublicSSH().toString("base64");

/** Step one: the challenge for `user` and `key`. */
async function challenge(conn: ProtocolConnection, user: string, key: ParsedKey): Promise<Buffer> {
  const reply = await conn.request({ op: "LOGIN", user, method: "publickey", key: blobOf(key) });
  assertOk(reply);
  const value = (reply as { challenge?: unknown }).challenge;
  assert.equal(typeof value, "string");
  const bytes = Buffer.from(value as string, "base64");
  assert.equal(bytes.length, 32);
  return bytes;
}

function sign(key: ParsedKey, data: Buffer): string {
  return key.sign(data, signatureHash(key.type)).toString("base64");
}

/**
 * Step two: LOGIN as `user` with `key`, signed by `signer` over `challenge` for `signedUser`
 * (the same as `user` unless a test forges it).
 */
function signed(
  conn: ProtocolConnection,
  user: string,
  key: ParsedKey,
  challenge: Buffer,
  options: { readonly signer?: ParsedKey; readonly signedUser?: string } = {},
): ReturnType<ProtocolConnection["request"]> {
  const data = loginSignedData(challenge, options.signedUser ?? user, key.getPublicSSH());
  return conn.request({
    op: "LOGIN",
    user,
    method: "publickey",
    key: blobOf(key),
    signature: sign(options.signer ?? key, data),
  });
}

test("HELLO announces publickey; a signed challenge logs in, with ed25519 and RSA", async () => {
  for (const key of [alice.key, aliceRsa.key]) {
    const conn = await ProtocolConnection.open(srv.port, { hello: false });
    try {
      const hello = await conn.request({ op: "HELLO", versions: [1] });
      assert.ok(
        (hello as unknown as { auth: { methods: string[] } }).auth.methods.includes("publickey"),
      );
      const c = await challenge(conn, "alice", key);
      const reply = await signed(conn, "alice", key, c);
      assertOk(reply);
      assert.equal((reply as { user?: unknown }).user, "alice");
      assertOk(await conn.request({ op: "PWD" }));
    } finally {
      conn.close();
    }
  }
});

test("a key that is not the account's, a bad signature, a replayed one: LOGIN_FAILED", async () => {
  const conn = await ProtocolConnection.open(srv.port);
  const other = await ProtocolConnection.open(srv.port);
  try {
    // A stranger's key, properly signed.
    const c1 = await challenge(conn, "alice", stranger.key);
    assertError(await signed(conn, "alice", stranger.key, c1), "BFTP_ERR_LOGIN_FAILED");
    // Alice's key, but the signature is over another challenge (replayed from `other`).
    const foreign = await challenge(other, "alice", alice.key);
    await challenge(conn, "alice", alice.key);
    assertError(await signed(conn, "alice", alice.key, foreign), "BFTP_ERR_LOGIN_FAILED");
    // The signature without a challenge of its own on this connection (used up above).
    const reply = await signed(other, "alice", alice.key, foreign);
    assertOk(reply); // `other` asked for `foreign`: its own challenge, its own login
    // The third failure on `conn` closes it, as for passwords (§8.2).
    const c3 = await challenge(conn, "alice", alice.key);
    const last = await signed(conn, "alice", alice.key, c3, { signedUser: "bob" });
    assertError(last, "BFTP_ERR_LOGIN_FAILED");
    assert.equal((last as { close?: unknown }).close, true);
    await conn.closed();
  } finally {
    conn.close();
    other.close();
  }
});

test("a challenge is good for the next LOGIN only, for the user and key it was asked for", async () => {
  const conn = await ProtocolConnection.open(srv.port);
  try {
    const c = await challenge(conn, "alice", alice.key);
    assertError(
      await conn.request({ op: "LOGIN", user: "alice", password: "wrong" }),
      "BFTP_ERR_LOGIN_FAILED",
    );
    assertError(await signed(conn, "alice", alice.key, c), "BFTP_ERR_LOGIN_FAILED");
  } finally {
    conn.close();
  }
});

test("malformed key logins are BAD_REQUEST, not a crash", async () => {
  const conn = await ProtocolConnection.open(srv.port);
  try {
    for (const request of [
      { op: "LOGIN", user: "alice", method: "publickey" },
      { op: "LOGIN", user: "alice", method: "publickey", key: "not base64!" },
      { op: "LOGIN", user: "alice", method: "publickey", key: "A".repeat(5000) },
      { op: "LOGIN", user: "alice", method: "telepathy" },
    ]) {
      assertError(await conn.request(request), "BFTP_ERR_BAD_REQUEST");
    }
    // Base64 that is no key: a challenge, then the refusal any unknown key gets.
    const junk = Buffer.from("junk").toString("base64");
    const reply = await conn.request({
      op: "LOGIN",
      user: "alice",
      method: "publickey",
      key: junk,
    });
    assertOk(reply);
    assertError(
      await conn.request({
        op: "LOGIN",
        user: "alice",
        method: "publickey",
        key: junk,
        signature: junk,
      }),
      "BFTP_ERR_LOGIN_FAILED",
    );
  } finally {
    conn.close();
  }
});
