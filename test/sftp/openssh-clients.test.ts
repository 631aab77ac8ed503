// Issue 14, items 2 and 4: OpenSSH's own `sftp` (batch mode) and `scp` (Debian's
// openssh-client) against `bftp serve --sftp` started by the test, with a password typed
// through SSH_ASKPASS and with the anonymous login of a server without accounts. The known
// host entry is made from the host key the server wrote, and checked against the printed
// fingerprint with ssh-keygen, as a user would.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import {
  scp as scpIn,
  sftpBatch as sftpBatchIn,
  sftpEndpoint,
  startSftpServe,
  type SftpEndpoint,
  type SftpServe,
} from "../helpers/openssh.js";
import { runCli } from "../helpers/run-cli.js";
import { spawnServe } from "../helpers/spawn-serve.js";

let base: string;
let config: string;
let served: string;
let local: string;
let server: SftpServe;
let endpoint: SftpEndpoint;

const sha = (data: Buffer): string => createHash("sha256").update(data).digest("hex");

before(async () => {
  server = await startSftpServe("bftp-openssh-");
  ({ base, config, served, endpoint } = server);
  local = path.join(base, "local");
  await fs.mkdir(local);
});

after(() => server.stop());

function sftpBatch(lines: readonly string[], password = "alice-pw", user = "alice") {
  return sftpBatchIn({ endpoint, dir: base, cwd: local }, lines, password, user);
}

function scp(args: readonly string[], password = "alice-pw") {
  return scpIn({ endpoint, dir: base, cwd: local }, args, password);
}

test("the printed fingerprint is the host key's, as ssh-keygen -l prints it; the key is 0600", async () => {
  const key = path.join(config, "ssh_host_ed25519_key");
  assert.equal((await fs.stat(key)).mode & 0o777, 0o600);
  const listed = spawnSync("ssh-keygen", ["-l", "-f", `${key}.pub`], { encoding: "utf8" });
  assert.equal(listed.status, 0, listed.stderr);
  assert.equal(listed.stdout.split(" ")[1], endpoint.fingerprint);
  assert.match(endpoint.fingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/u);
});

test("sftp -b: put, ls, mkdir, rename, get and rm of a binary file, byte for byte", async () => {
  const data = randomBytes(3 * 1024 * 1024 + 7);
  await fs.writeFile(path.join(local, "up.bin"), data);
  const run = await sftpBatch([
    "put up.bin",
    "mkdir folder",
    "rename up.bin folder/moved.bin",
    "ls -l folder",
    "get folder/moved.bin down.bin",
    "put up.bin gone.bin",
    "rm gone.bin",
  ]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /-rw-r--r-- .* moved\.bin/u);
  assert.equal(sha(await fs.readFile(path.join(served, "folder", "moved.bin"))), sha(data));
  assert.equal(sha(await fs.readFile(path.join(local, "down.bin"))), sha(data));
  await assert.rejects(fs.stat(path.join(served, "gone.bin")), { code: "ENOENT" });
});

test("sftp -b stops at a refused command, and the refusal names its code", async () => {
  const run = await sftpBatch(["cd /", "rmdir /nonexistent-folder", "put never.txt"]);
  assert.notEqual(run.code, 0);
  assert.match(run.stderr, /BFTP_ERR_NOT_FOUND|No such file/u);
});

test("scp up and down; scp -p keeps the modification time", async () => {
  const data = randomBytes(5 * 1024 * 1024 + 3);
  const file = path.join(local, "scp.bin");
  await fs.writeFile(file, data);
  const mtime = new Date("2020-01-02T03:04:05Z");
  await fs.utimes(file, mtime, mtime);
  const up = await scp(["-p", "scp.bin", "alice@127.0.0.1:/scp.bin"]);
  assert.equal(up.code, 0, up.stderr);
  const stored = await fs.stat(path.join(served, "scp.bin"));
  assert.equal(stored.mtimeMs, mtime.getTime());
  assert.equal(sha(await fs.readFile(path.join(served, "scp.bin"))), sha(data));
  const down = await scp(["alice@127.0.0.1:/scp.bin", "back.bin"]);
  assert.equal(down.code, 0, down.stderr);
  assert.equal(sha(await fs.readFile(path.join(local, "back.bin"))), sha(data));
  // Over an existing file, several times: each copy commits whole (scp truncates at the end).
  for (let i = 0; i < 3; i++) {
    const again = await scp(["scp.bin", "alice@127.0.0.1:/scp.bin"]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal((await fs.stat(path.join(served, "scp.bin"))).size, data.length);
  }
});

test("a wrong password is refused; the server goes on serving", async () => {
  const run = await sftpBatch(["ls"], "not-the-password");
  assert.notEqual(run.code, 0);
  assert.match(run.stderr, /Permission denied/u);
  const ok = await sftpBatch(["ls"]);
  assert.equal(ok.code, 0, ok.stderr);
});

test("the host key is reused on the next start: same fingerprint, not created again", async () => {
  const again = await spawnServe(served, [
    "--config-dir",
    config,
    "--sftp-port",
    "0",
    "--port",
    "0",
  ]);
  try {
    const other = await sftpEndpoint(again, config, path.join(base, "local"));
    assert.equal(other.fingerprint, endpoint.fingerprint);
    const line = again.stdout.find((l) => l.startsWith("sftp host key ")) ?? "";
    assert.doesNotMatch(line, /created/u);
  } finally {
    await again.stop();
  }
});

test("--sftp with --workers is refused as a usage error, before listening", async () => {
  const run = await runCli([
    "serve",
    served,
    "--port",
    "0",
    "--sftp",
    "--workers",
    "2",
    "--config-dir",
    config,
  ]);
  assert.equal(run.code, 2, run.stderr);
  assert.match(run.stderr, /\(BFTP_ERR_INVALID_ARGUMENT\)/u);
  assert.doesNotMatch(run.stdout, /listening on/u);
});
