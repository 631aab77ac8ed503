import assert from "node:assert/strict";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import {
  NO_USERS,
  hasAccounts,
  loadUsers,
  saveUsers,
  usersFilePath,
} from "../../src/server/accounts/users-file.js";
import { rejectsWithCode } from "../helpers/assert-code.js";
import { testUser, usersFile } from "../helpers/test-users.js";

// Issue 7, items 1 and 6: the users file, in the configuration folder, mode 0600, versioned.

let dir: string;
let file: string;

before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "bftp-users-"));
  file = usersFilePath(path.join(dir, "config"));
});

after(() => fs.rm(dir, { recursive: true, force: true }));

test("a missing users file means no accounts", async () => {
  assert.deepEqual(await loadUsers(file), NO_USERS);
  assert.equal(await hasAccounts(file), false);
});

test("saved users load back; the file is 0600 and its new folder 0700", async () => {
  const users = usersFile(await testUser("alice", "a"), await testUser("bob", "b", { root: "/b" }));
  await saveUsers(file, users);
  assert.deepEqual(await loadUsers(file), users);
  assert.equal(await hasAccounts(file), true);
  assert.equal((await fs.stat(file)).mode & 0o777, 0o600);
  assert.equal((await fs.stat(path.dirname(file))).mode & 0o777, 0o700);
  assert.equal(path.basename(file), "users.json");
});

test("a users file others may read is refused", async () => {
  await saveUsers(file, usersFile(await testUser("alice", "a")));
  await fs.chmod(file, 0o644);
  try {
    await rejectsWithCode(loadUsers(file), "BFTP_ERR_LOCAL_FILE");
  } finally {
    await fs.chmod(file, 0o600);
  }
});

test("malformed users files are refused with BFTP_ERR_LOCAL_FILE", async () => {
  const alice = await testUser("alice", "a");
  const bad: unknown[] = [
    "not json",
    { version: 2, users: [] },
    { version: 1 },
    { version: 1, users: [alice, alice] },
    { version: 1, users: [{ ...alice, name: "anonymous" }] },
    { version: 1, users: [{ ...alice, name: "-flag" }] },
    { version: 1, users: [{ ...alice, name: "../x" }] },
    { version: 1, users: [{ ...alice, root: "relative" }] },
    { version: 1, users: [{ ...alice, permissions: ["read", "admin"] }] },
    { version: 1, users: [{ ...alice, password: { ...alice.password, logN: 24 } }] },
    { version: 1, users: [{ ...alice, password: { ...alice.password, alg: "md5" } }] },
    { version: 1, users: [{ ...alice, extra: true }] },
  ];
  for (const content of bad) {
    await fs.writeFile(file, typeof content === "string" ? content : JSON.stringify(content), {
      mode: 0o600,
    });
    await rejectsWithCode(loadUsers(file), "BFTP_ERR_LOCAL_FILE");
  }
});
