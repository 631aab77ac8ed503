// Issue 15, item 3: nodes read their accounts from a shared users file and read it again on
// SIGHUP, so an account added on one machine reaches every node without a restart.
import assert from "node:assert/strict";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { BftpClient } from "../../src/client/client.js";
import { isBftpError } from "../../src/errors.js";
import { saveUsers } from "../../src/server/accounts/users-file.js";
import { spawnServe } from "../helpers/spawn-serve.js";
import { testUser, usersFile } from "../helpers/test-users.js";
import { waitUntil } from "../helpers/wait-until.js";

async function loginCode(port: number, user: string, password: string): Promise<string> {
  const client = await BftpClient.connect({ host: "127.0.0.1", port }, { user, password });
  await client.close();
  return "ok";
}

async function outcome(port: number, user: string, password: string): Promise<string> {
  try {
    return await loginCode(port, user, password);
  } catch (err) {
    return isBftpError(err) ? err.code : "not a BftpError";
  }
}

test("SIGHUP reads the users file again: a new account logs in, a removed one no longer does", async () => {
  const base = await fs.mkdtemp(path.join(os.tmpdir(), "bftp-reload-"));
  const config = path.join(base, "config");
  await fs.mkdir(config);
  const file = path.join(config, "users.json");
  await saveUsers(file, usersFile(await testUser("ann", "ann-pass")));
  const serve = await spawnServe(path.join(base, "files"), ["--config-dir", config]);
  try {
    assert.equal(await outcome(serve.port, "ann", "ann-pass"), "ok");
    assert.equal(await outcome(serve.port, "bob", "bob-pass"), "BFTP_ERR_LOGIN_FAILED");

    await saveUsers(file, usersFile(await testUser("bob", "bob-pass")));
    const reloads = (): number =>
      serve.stderr.filter((l) => l.includes('"accounts-reloaded"')).length;
    serve.child.kill("SIGHUP");
    await waitUntil(() => reloads() === 1, "the reload", 10_000);
    assert.equal(await outcome(serve.port, "bob", "bob-pass"), "ok");
    assert.equal(await outcome(serve.port, "ann", "ann-pass"), "BFTP_ERR_LOGIN_FAILED");

    // A broken file is logged with its code and changes nothing.
    await fs.writeFile(file, "{ not json");
    serve.child.kill("SIGHUP");
    await waitUntil(
      () => serve.stderr.some((l) => l.includes('"accounts-reload-failed"')),
      "the failed reload",
      10_000,
    );
    const failure = serve.stderr.find((l) => l.includes('"accounts-reload-failed"')) ?? "{}";
    assert.match(String((JSON.parse(failure) as { error?: unknown }).error), /^BFTP_ERR_/);
    assert.equal(await outcome(serve.port, "bob", "bob-pass"), "ok");
    assert.equal(serve.child.exitCode, null, "the server is still running");
  } finally {
    await serve.stop();
    await fs.rm(base, { recursive: true, force: true });
  }
});
