// Issue 14, item 3: public keys for accounts. `bftp user add-key|keys|remove-key` on the
// users file; `bftp ls` and `bftp shell` log in with -i KEYFILE or a key in ssh-agent (an
// agent the test starts), with no password prompt; OpenSSH's sftp logs in with the same key;
// a wrong key is refused with BFTP_ERR_LOGIN_FAILED after the same delay as a wrong password.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { runSsh, sftpEndpoint, sshOptions, type SftpEndpoint } from "../helpers/openssh.js";
import { runCli } from "../helpers/run-cli.js";
import { CLI, spawnServe, type ServeProcess } from "../helpers/spawn-serve.js";
import { childEnv, runShellScript } from "../fixtures/spawn-shell.js";

let base: string;
let config: string;
let served: string;
let serve: ServeProcess;
let endpoint: SftpEndpoint;
let url: string;
const DELAY_MS = 400;

function keygen(file: string, type: string, bits?: number): void {
  const args = ["-q", "-t", type, "-N", "", "-C", `test-${type}`, "-f", file];
  if (bits !== undefined) args.push("-b", String(bits));
  const made = spawnSync("ssh-keygen", args, { encoding: "utf8" });
  assert.equal(made.status, 0, made.stderr);
}

function user(args: readonly string[], input?: { password?: string }) {
  return runCli(["user", ...args, "--config-dir", config], {
    env: input?.password === undefined ? {} : { BFTP_PASSWORD: input.password },
  });
}

/** The CLI with no password anywhere and no agent unless given (stdin closed: no prompt). */
function cli(args: readonly string[], env: Record<string, string> = {}) {
  return runCli(args, { env: { SSH_AUTH_SOCK: "", ...env } });
}

before(async () => {
  base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "bftp-keys-")));
  config = path.join(base, "config");
  served = path.join(base, "served");
  await fs.mkdir(served);
  await fs.writeFile(path.join(served, "hello.txt"), "hello\n");
  keygen(path.join(base, "ed"), "ed25519");
  keygen(path.join(base, "rsa"), "rsa", 3072);
  keygen(path.join(base, "other"), "ed25519");
  keygen(path.join(base, "small"), "rsa", 1024);
  assert.equal((await user(["add", "alice"], { password: "alice-pw" })).code, 0);
  const added = await user(["add-key", "alice", path.join(base, "ed.pub")]);
  assert.equal(added.code, 0, added.stderr);
  // From standard input, as `cat id.pub | bftp user add-key alice -`.
  const rsa = spawnSync(
    process.execPath,
    [CLI, "user", "add-key", "alice", "-", "--config-dir", config],
    {
      input: await fs.readFile(path.join(base, "rsa.pub")),
      encoding: "utf8",
      timeout: 20_000,
    },
  );
  assert.equal(rsa.status, 0, rsa.stderr);
  serve = await spawnServe(served, [
    "--config-dir",
    config,
    "--login-delay",
    String(DELAY_MS / 1000),
    "--sftp-port",
    "0",
  ]);
  endpoint = await sftpEndpoint(serve, config, base);
  url = `bftp://alice@127.0.0.1:${serve.port}/`;
});

after(async () => {
  await serve.stop();
  await fs.rm(base, { recursive: true, force: true });
});

test("user keys lists each key with ssh-keygen's fingerprint; duplicates and bad lines refused", async () => {
  const listed = await user(["keys", "alice", "--json"]);
  assert.equal(listed.code, 0, listed.stderr);
  const keys = (JSON.parse(listed.stdout) as { keys: { type: string; fingerprint: string }[] })
    .keys;
  assert.deepEqual(
    keys.map((k) => k.type),
    ["ssh-ed25519", "ssh-rsa"],
  );
  const expected = spawnSync("ssh-keygen", ["-l", "-f", path.join(base, "ed.pub")], {
    encoding: "utf8",
  }).stdout.split(" ")[1];
  assert.equal(keys[0]?.fingerprint, expected);
  const again = await user(["add-key", "alice", path.join(base, "ed.pub"), "--json"]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal((JSON.parse(again.stdout) as { skipped: unknown[] }).skipped.length, 1);
  const small = await user(["add-key", "alice", path.join(base, "small.pub")]);
  assert.equal(small.code, 2);
  assert.match(small.stderr, /\(BFTP_ERR_INVALID_ARGUMENT\)/u);
  const missing = await user(["add-key", "alice", path.join(base, "nope.pub")]);
  assert.match(missing.stderr, /\(BFTP_ERR_LOCAL_FILE\)/u);
  const ghost = await user(["remove-key", "alice", "SHA256:AAAA"]);
  assert.match(ghost.stderr, /\(BFTP_ERR_NOT_FOUND\)/u);
});

test("bftp ls -i logs in with an ed25519 or an RSA key, with no password anywhere", async () => {
  for (const key of ["ed", "rsa"]) {
    const run = await cli(["ls", "-i", path.join(base, key), url]);
    assert.equal(run.code, 0, `${key}: ${run.stderr}`);
    assert.match(run.stdout, /hello\.txt/u);
  }
});

test("bftp shell -i logs in with the key", async () => {
  const run = await runShellScript(url, "ls\npwd\n", {
    cwd: base,
    args: ["-i", path.join(base, "ed")],
    env: childEnv(base, { SSH_AUTH_SOCK: "" }),
  });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /hello\.txt/u);
});

test("a key in ssh-agent logs in without -i", async () => {
  const socket = path.join(base, "agent.sock");
  const agent = spawn("ssh-agent", ["-D", "-a", socket], { stdio: "ignore" });
  try {
    for (
      let i = 0;
      i < 200 &&
      !(await fs.stat(socket).then(
        () => true,
        () => false,
      ));
      i++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const added = spawnSync("ssh-add", ["-q", path.join(base, "rsa")], {
      env: { ...process.env, SSH_AUTH_SOCK: socket },
      encoding: "utf8",
    });
    assert.equal(added.status, 0, added.stderr);
    const run = await cli(["ls", url], { SSH_AUTH_SOCK: socket });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /hello\.txt/u);
  } finally {
    agent.kill();
  }
});

test("a wrong key is refused as a wrong password is, after the same delay", async () => {
  const started = Date.now();
  const key = await cli(["ls", "-i", path.join(base, "other"), url]);
  const keyMs = Date.now() - started;
  assert.equal(key.code, 1);
  assert.match(key.stderr, /\(BFTP_ERR_LOGIN_FAILED\)/u);
  const again = Date.now();
  const password = await cli(["ls", url], { BFTP_PASSWORD: "wrong" });
  const passwordMs = Date.now() - again;
  assert.match(password.stderr, /\(BFTP_ERR_LOGIN_FAILED\)/u);
  assert.ok(keyMs >= DELAY_MS && passwordMs >= DELAY_MS, `${keyMs} ms, ${passwordMs} ms`);
});

test("OpenSSH's sftp logs in with the account's key; another key is refused", async () => {
  const batch = path.join(base, "batch");
  await fs.writeFile(batch, "get hello.txt got.txt\n");
  const sftp = (key: string) =>
    runSsh(
      "sftp",
      [
        ...sshOptions(endpoint),
        "-i",
        path.join(base, key),
        "-b",
        batch,
        "-P",
        String(endpoint.port),
        "alice@127.0.0.1",
      ],
      { dir: base },
    );
  const ok = await sftp("ed");
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(await fs.readFile(path.join(base, "got.txt"), "utf8"), "hello\n");
  const refused = await sftp("other");
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /Permission denied/u);
});

test("user remove-key takes the key away", async () => {
  const fp = spawnSync("ssh-keygen", ["-l", "-f", path.join(base, "rsa.pub")], {
    encoding: "utf8",
  }).stdout.split(" ")[1];
  const removed = await user(["remove-key", "alice", fp ?? ""]);
  assert.equal(removed.code, 0, removed.stderr);
  const listed = await user(["keys", "alice"]);
  assert.doesNotMatch(listed.stdout, /ssh-rsa/u);
});
