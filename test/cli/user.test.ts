import assert from "node:assert/strict";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { runShellScript } from "../fixtures/spawn-shell.js";
import { jsonOf, runCli } from "../helpers/run-cli.js";
import { spawnServe, type ServeProcess } from "../helpers/spawn-serve.js";

// Issue 7, items 1, 5 and 6: `bftp user add|del|list|passwd` on the users file in
// --config-dir, and clients logging in to `bftp serve --config-dir` with BFTP_PASSWORD.

let base: string;
let config: string;
let served: string;

before(async () => {
  base = await fs.mkdtemp(path.join(os.tmpdir(), "bftp-cli-user-"));
  config = path.join(base, "config");
  served = path.join(base, "served");
  await fs.mkdir(served);
});

after(() => fs.rm(base, { recursive: true, force: true }));

function user(args: readonly string[], password?: string) {
  return runCli(["user", ...args, "--config-dir", config], {
    env: password === undefined ? {} : { BFTP_PASSWORD: password },
  });
}

async function serve(extra: readonly string[] = []): Promise<ServeProcess> {
  return spawnServe(served, ["--config-dir", config, "--login-delay", "0", ...extra]);
}

test("user add writes a 0600 users file with a scrypt hash, never the password", async () => {
  const added = await user(["add", "alice"], "alice's secret");
  assert.equal(added.code, 0, added.stderr);
  assert.match(added.stdout, /added alice/u);
  const file = path.join(config, "users.json");
  assert.equal((await fs.stat(file)).mode & 0o777, 0o600);
  const text = await fs.readFile(file, "utf8");
  assert.doesNotMatch(text, /alice's secret/u);
  const parsed = JSON.parse(text) as {
    version: number;
    users: { permissions: string[]; password: { logN: number } }[];
  };
  assert.equal(parsed.version, 1);
  assert.deepEqual(
    parsed.users.map((u) => [u.permissions, u.password.logN]),
    [[["read", "write", "delete", "mkdir"], 15]],
  );

  const bob = await user(["add", "bob", "--root", "/bob", "--read-only", "--json"], "bob-pw");
  assert.equal(bob.code, 0, bob.stderr);
  assert.deepEqual(jsonOf(bob)["user"], { name: "bob", root: "/bob", permissions: ["read"] });
});

test("user add refuses an existing name, a bad name, a bad root and bad permissions", async () => {
  const again = await user(["add", "alice", "--json"], "x");
  assert.equal(again.code, 1);
  assert.equal((jsonOf(again)["error"] as { code: string }).code, "BFTP_ERR_EXISTS");
  for (const args of [
    ["add", "-x"],
    ["add", "anonymous"],
    ["add", "a/b"],
    ["add", "carol", "--root", "../up"],
    ["add", "carol", "--permissions", "read,admin"],
    ["add", "carol", "--read-only", "--permissions", "read"],
  ]) {
    const result = await user(args, "x");
    assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
  }
});

test("without BFTP_PASSWORD and without a terminal, no password is asked and nothing is written", async () => {
  const before = await fs.readFile(path.join(config, "users.json"), "utf8");
  const result = await user(["add", "carol"]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /BFTP_ERR_INVALID_ARGUMENT/u);
  assert.equal(await fs.readFile(path.join(config, "users.json"), "utf8"), before);
});

test("user list shows names, roots and permissions", async () => {
  const listed = await user(["list", "--json"]);
  assert.equal(listed.code, 0, listed.stderr);
  assert.deepEqual(jsonOf(listed)["users"], [
    { name: "alice", root: "/", permissions: ["read", "write", "delete", "mkdir"] },
    { name: "bob", root: "/bob", permissions: ["read"] },
  ]);
  const text = await user(["list"]);
  assert.match(text.stdout, /^bob {2}\/bob {2}read$/mu);
});

test("a server with accounts lets a client in with BFTP_PASSWORD, and refuses the rest", async () => {
  const server = await serve();
  const at = `bftp://127.0.0.1:${server.port}`;
  try {
    await fs.writeFile(path.join(served, "hello.txt"), "hello");
    const ok = await runCli(["ls", "--json", `bftp://alice@127.0.0.1:${server.port}/`], {
      env: { BFTP_PASSWORD: "alice's secret" },
    });
    assert.equal(ok.code, 0, ok.stderr);
    const names = (jsonOf(ok)["entries"] as { name: string }[]).map((e) => e.name);
    assert.ok(names.includes("hello.txt"));

    const viaFlag = await runCli(["stat", "--user", "alice", `${at}/hello.txt`], {
      env: { BFTP_PASSWORD: "alice's secret" },
    });
    assert.equal(viaFlag.code, 0, viaFlag.stderr);

    const wrong = await runCli(["ls", `bftp://alice@127.0.0.1:${server.port}/`], {
      env: { BFTP_PASSWORD: "guess" },
    });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /BFTP_ERR_LOGIN_FAILED/u);

    const nobody = await runCli(["ls", `${at}/`]);
    assert.equal(nobody.code, 1);
    assert.match(nobody.stderr, /BFTP_ERR_NOT_AUTHENTICATED/u);

    // bob is read-only, in /bob (created by the server at start).
    const local = path.join(base, "up.txt");
    await fs.writeFile(local, "data");
    const put = await runCli(["put", local, `bftp://bob@127.0.0.1:${server.port}/up.txt`], {
      env: { BFTP_PASSWORD: "bob-pw" },
    });
    assert.equal(put.code, 1);
    assert.match(put.stderr, /BFTP_ERR_FORBIDDEN/u);
    await fs.stat(path.join(served, "bob"));

    // The shell logs in the same way; scripted, the password comes from BFTP_PASSWORD.
    const script = await runShellScript(`bftp://alice@127.0.0.1:${server.port}`, "ls\n", {
      cwd: base,
      env: { ...process.env, BFTP_PASSWORD: "alice's secret" },
    });
    assert.equal(script.code, 0, script.stderr);
    assert.match(script.stdout, /hello\.txt/u);
    const refused = await runShellScript(at, "ls\n", { cwd: base });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /BFTP_ERR_NOT_AUTHENTICATED/u);

    // The server's log never holds a password.
    const log = server.stderr.join("\n");
    assert.match(log, /login-failed/u);
    assert.doesNotMatch(log, /alice's secret|guess|bob-pw/u);
  } finally {
    await server.stop();
  }
});

test("no command takes a password argument", async () => {
  const result = await runCli(["ls", "--password", "x", "bftp://alice@127.0.0.1:1/"]);
  assert.equal(result.code, 2);
});

test("serve --anonymous lets others read, and only read", async () => {
  const server = await serve(["--anonymous"]);
  try {
    const ls = await runCli(["ls", `bftp://127.0.0.1:${server.port}/`]);
    assert.equal(ls.code, 0, ls.stderr);
    const mkdir = await runCli(["mkdir", `bftp://127.0.0.1:${server.port}/new`]);
    assert.equal(mkdir.code, 1);
    assert.match(mkdir.stderr, /BFTP_ERR_FORBIDDEN/u);
  } finally {
    await server.stop();
  }
  const bad = await runCli(["serve", served, "--anonymous-permissions", "read"]);
  assert.equal(bad.code, 2);
});

test("a broken or world-readable users file stops serve and user list (exit 1, BFTP_ERR_LOCAL_FILE)", async () => {
  const broken = path.join(base, "broken");
  await fs.mkdir(broken, { mode: 0o700 });
  const file = path.join(broken, "users.json");
  for (const [content, mode] of [
    ["{not json", 0o600],
    [JSON.stringify({ version: 1, users: [] }), 0o644],
  ] as const) {
    await fs.writeFile(file, content);
    await fs.chmod(file, mode);
    const served2 = await runCli(["serve", served, "--port", "0", "--config-dir", broken]);
    assert.equal(served2.code, 1);
    assert.match(served2.stderr, /BFTP_ERR_LOCAL_FILE/u);
    const listed = await runCli(["user", "list", "--config-dir", broken]);
    assert.equal(listed.code, 1);
  }
});

test("user passwd changes the password (for the next server start); user del removes", async () => {
  const changed = await user(["passwd", "alice"], "new secret");
  assert.equal(changed.code, 0, changed.stderr);
  const server = await serve();
  try {
    const at = `bftp://alice@127.0.0.1:${server.port}/`;
    const old = await runCli(["ls", at], { env: { BFTP_PASSWORD: "alice's secret" } });
    assert.equal(old.code, 1);
    const fresh = await runCli(["ls", at], { env: { BFTP_PASSWORD: "new secret" } });
    assert.equal(fresh.code, 0, fresh.stderr);
  } finally {
    await server.stop();
  }
  const missing = await user(["passwd", "nobody"], "x");
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /BFTP_ERR_NOT_FOUND/u);
  assert.equal((await user(["del", "bob"])).code, 0);
  assert.equal((await user(["del", "bob"])).code, 1);
  const listed = await user(["list", "--json"]);
  assert.deepEqual(
    (jsonOf(listed)["users"] as { name: string }[]).map((u) => u.name),
    ["alice"],
  );
});
