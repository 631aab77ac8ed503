import assert from "node:assert/strict";
import fs from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { BftpClient } from "../../src/client/client.js";
import { inStep } from "../../src/client/in-step.js";
import { BftpError, isBftpError, RemoteError } from "../../src/errors.js";
import { rejectsWithCode } from "../helpers/assert-code.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";
import { testUser, usersFile } from "../helpers/test-users.js";

// Issue 11 ("Also"), STYLE.md: whether an error leaves the connection usable is part of the
// error's type, not a flag in `details` read by string key. A RemoteError is the server's
// refusal (basic-ftp's FTPError); `connectionUsable` says whether the next call can follow.

let srv: TestServer;
let locked: TestServer;

before(async () => {
  srv = await startServer();
  locked = await startServer(
    { loginDelayMs: 0, maxLoginFailures: 2 },
    { accounts: { users: usersFile(await testUser("alice", "wonderland-7")) } },
  );
});

after(async () => {
  await srv.stop();
  await locked.stop();
});

/** A client of `server` (closed by the caller). */
function connect(server: TestServer): Promise<BftpClient> {
  return BftpClient.connect({ host: "127.0.0.1", port: server.port });
}

test("the server's refusal is a RemoteError: remote, connection usable, no flags in details", async () => {
  const client = await connect(srv);
  try {
    const err = await rejectsWithCode(client.stat("/missing"), "BFTP_ERR_NOT_FOUND");
    assert.ok(err instanceof RemoteError);
    assert.equal(err.remote, true);
    assert.equal(err.close, false);
    assert.equal(err.connectionUsable, true);
    assert.equal(err.status, 404);
    assert.deepEqual(err.details, { remoteCode: "BFTP_ERR_NOT_FOUND", status: 404 });
    assert.equal(client.connection.failure, undefined);
    assert.equal(await client.pwd(), "/");
  } finally {
    await client.close();
  }
});

test("a refusal the server ends the connection with (close: true) is remote and leaves it unusable", async () => {
  const client = await connect(locked);
  try {
    const first = await rejectsWithCode(client.login("alice", "guess-1"), "BFTP_ERR_LOGIN_FAILED");
    assert.ok(first instanceof RemoteError);
    assert.equal(first.connectionUsable, true, "the first failure leaves the connection open");
    const last = await rejectsWithCode(client.login("alice", "guess-2"), "BFTP_ERR_LOGIN_FAILED");
    assert.ok(last instanceof RemoteError);
    assert.equal(last.close, true);
    assert.equal(last.connectionUsable, false);
    // The client closed the connection with it as the first reason; later calls fail with it.
    assert.equal(client.connection.failure, last);
    assert.equal(await client.pwd().catch((err: unknown) => err), last);
  } finally {
    await client.close();
  }
});

test("a local refusal before anything is sent is not remote and leaves the connection usable", async () => {
  const client = await connect(srv);
  try {
    const missing = path.join(srv.outside, "no-such-file.bin");
    const err = await rejectsWithCode(client.upload(missing, "/x.bin"), "BFTP_ERR_LOCAL_FILE");
    assert.ok(isBftpError(err));
    assert.equal(err.remote, false);
    assert.equal(err.connectionUsable, true);
    assert.equal("inStep" in err.details, false, "the flag is typed, not in details");
    assert.equal(client.connection.failure, undefined);
    assert.equal(await client.pwd(), "/");
  } finally {
    await client.close();
  }
});

test("a download whose destination fails is in step after the drain: usable, not remote", async () => {
  await fs.writeFile(path.join(srv.root, "d.bin"), Buffer.alloc(64 * 1024, 1));
  const client = await connect(srv);
  try {
    const target = path.join(srv.outside, "no-such-folder", "d.bin");
    const err = await rejectsWithCode(client.download("/d.bin", target), "BFTP_ERR_LOCAL_FILE");
    assert.ok(isBftpError(err));
    assert.equal(err.remote, false);
    assert.equal(err.connectionUsable, true);
    assert.equal((await client.stat("/d.bin")).size, 64 * 1024);
  } finally {
    await client.close();
  }
});

test("a lost connection is neither remote nor usable, and is every later call's reason", async () => {
  const server = await startServer();
  const client = await connect(server);
  try {
    client.connection.socket.destroy();
    const err = await rejectsWithCode(client.pwd(), "BFTP_ERR_CONNECTION_LOST");
    assert.ok(isBftpError(err));
    assert.equal(err.remote, false);
    assert.notEqual(err.connectionUsable, true);
    assert.equal(await client.pwd().catch((e: unknown) => e), client.connection.failure);
  } finally {
    await client.close();
    await server.stop();
  }
});

test("inStep() types a failure as usable and keeps a RemoteError remote", () => {
  const remote = new RemoteError("BFTP_ERR_TRANSFER_ABORTED", "Cannot go on: the sender gave up");
  assert.equal(inStep(remote, "Cannot download"), remote, "already usable: unchanged");
  const local = new BftpError("BFTP_ERR_SIZE_MISMATCH", "Cannot trust it: 3 bytes, not 4");
  const marked = inStep(local, "Cannot download");
  assert.equal(marked.code, "BFTP_ERR_SIZE_MISMATCH");
  assert.equal(marked.connectionUsable, true);
  assert.equal(marked.remote, false);
  assert.equal(marked.cause, local);
  const fsError = Object.assign(new Error("ENOSPC: no space left"), { code: "ENOSPC" });
  const wrapped = inStep(fsError, "Cannot write");
  assert.equal(wrapped.code, "BFTP_ERR_LOCAL_FILE");
  assert.equal(wrapped.connectionUsable, true);
  assert.equal(wrapped.cause, fsError);
  assert.equal(
    local.connectionUsable,
    undefined,
    "an error that does not say leaves it to its code",
  );
});
