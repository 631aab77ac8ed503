import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { BftpClient } from "../../src/client/client.js";
import { rejectsWithCode } from "../helpers/assert-code.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";
import { testUser, usersFile } from "../helpers/test-users.js";

// Issue 7, item 5: the client library logs in after HELLO when a user is named.

let srv: TestServer;

before(async () => {
  srv = await startServer(
    { loginDelayMs: 0 },
    { accounts: { users: usersFile(await testUser("alice", "pw", { root: "/alice" })) } },
  );
});

after(() => srv.stop());

test("connect logs in as the location's user, or options.user, with options.password", async () => {
  const byLocation = await BftpClient.connect(`bftp://alice@127.0.0.1:${srv.port}`, {
    password: "pw",
  });
  try {
    assert.deepEqual(byLocation.server.auth, { required: true, methods: ["password"] });
    assert.equal(await byLocation.pwd(), "/");
    await byLocation.mkdir("/made");
  } finally {
    await byLocation.close();
  }
  const byOption = await BftpClient.connect(
    { host: "127.0.0.1", port: srv.port },
    { user: "alice", password: "pw" },
  );
  try {
    assert.equal((await byOption.stat("/made")).type, "dir");
  } finally {
    await byOption.close();
  }
});

test("a wrong password rejects connect with BFTP_ERR_LOGIN_FAILED", async () => {
  await rejectsWithCode(
    BftpClient.connect(`bftp://alice@127.0.0.1:${srv.port}`, { password: "nope" }),
    "BFTP_ERR_LOGIN_FAILED",
  );
});

test("without a login every command is BFTP_ERR_NOT_AUTHENTICATED; login() then opens them", async () => {
  const client = await BftpClient.connect({ host: "127.0.0.1", port: srv.port });
  try {
    await rejectsWithCode(client.pwd(), "BFTP_ERR_NOT_AUTHENTICATED");
    assert.equal(await client.login("alice", "pw"), "alice");
    assert.equal(await client.pwd(), "/");
  } finally {
    await client.close();
  }
});
