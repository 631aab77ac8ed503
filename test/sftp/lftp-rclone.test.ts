// Issue 14, item 4: lftp (sftp://) and rclone (its sftp backend: copy, sync, check), from
// Debian's packages, against `bftp serve --sftp`, with a password and with a key. The
// known_hosts entry comes from the host key the server wrote.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { runSsh, startSftpServe, type SftpEndpoint, type SftpServe } from "../helpers/openssh.js";

let base: string;
let served: string;
let server: SftpServe;
let endpoint: SftpEndpoint;

const sha = (data: Buffer): string => createHash("sha256").update(data).digest("hex");

/** A small tree: binary files, a nested folder, a name with a space. */
async function makeTree(dir: string): Promise<void> {
  await fs.mkdir(path.join(dir, "sub", "deeper"), { recursive: true });
  await fs.writeFile(path.join(dir, "a.bin"), randomBytes(300_000));
  await fs.writeFile(path.join(dir, "with space.txt"), "spaced\n");
  for (let i = 0; i < 20; i++)
    await fs.writeFile(path.join(dir, "sub", `f${i}.txt`), `file ${i}\n`);
  await fs.writeFile(path.join(dir, "sub", "deeper", "z.bin"), randomBytes(70_000));
}

/** Relative path → sha256 of every file under `dir`. */
async function digest(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (at: string): Promise<void> => {
    for (const entry of await fs.readdir(at, { withFileTypes: true })) {
      const full = path.join(at, entry.name);
      if (entry.isDirectory()) await walk(full);
      else out[path.relative(dir, full)] = sha(await fs.readFile(full));
    }
  };
  await walk(dir);
  return out;
}

before(async () => {
  server = await startSftpServe("bftp-lftp-rclone-", (dir) => {
    const made = spawnSync("ssh-keygen", [
      "-q",
      "-t",
      "ed25519",
      "-N",
      "",
      "-f",
      path.join(dir, "key"),
    ]);
    assert.equal(made.status, 0);
    return Promise.resolve([path.join(dir, "key.pub")]);
  });
  ({ base, served, endpoint } = server);
});

after(() => server.stop());

test("lftp mirrors a tree up and back down over sftp://, byte for byte", async () => {
  const local = path.join(base, "lftp-local");
  await makeTree(local);
  const ssh = `ssh -a -x -F /dev/null -o UserKnownHostsFile=${endpoint.knownHosts} -o StrictHostKeyChecking=yes`;
  const script = [
    `set sftp:connect-program "${ssh}"`,
    "set net:max-retries 1",
    "set net:timeout 20",
    `open -u alice,alice-pw -p ${endpoint.port} sftp://127.0.0.1`,
    `mirror -R "${local}" up`,
    `mirror up "${path.join(base, "lftp-back")}"`,
  ].join("; ");
  const run = await runSsh("lftp", ["-c", script], { dir: base });
  assert.equal(run.code, 0, run.stderr);
  const expected = await digest(local);
  assert.deepEqual(await digest(path.join(served, "up")), expected);
  assert.deepEqual(await digest(path.join(base, "lftp-back")), expected);
});

/** Runs rclone with a config naming the server `bftp:` (password or key) and a 60 s limit. */
async function rclone(
  args: readonly string[],
  auth: "password" | "key",
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const obscured = spawnSync("rclone", ["obscure", "alice-pw"], { encoding: "utf8" }).stdout.trim();
  const conf = path.join(base, `rclone-${auth}.conf`);
  await fs.writeFile(
    conf,
    [
      "[bftp]",
      "type = sftp",
      "host = 127.0.0.1",
      `port = ${endpoint.port}`,
      "user = alice",
      auth === "password" ? `pass = ${obscured}` : `key_file = ${path.join(base, "key")}`,
      `known_hosts_file = ${endpoint.knownHosts}`,
      // No shell: the server speaks only SFTP, so rclone must not try commands (md5sum, df).
      "shell_type = none",
      "",
    ].join("\n"),
  );
  return runSsh("rclone", ["--config", conf, "--contimeout", "10s", "--retries", "1", ...args], {
    dir: base,
  });
}

test("rclone copy, check and sync, with a password and with a key; a changed file is the only one sent", async () => {
  const local = path.join(base, "rclone-local");
  await makeTree(local);
  for (const auth of ["password", "key"] as const) {
    const remote = `bftp:/rc-${auth}`;
    const copied = await rclone(["copy", local, remote], auth);
    assert.equal(copied.code, 0, `${auth}: ${copied.stderr}`);
    assert.deepEqual(await digest(path.join(served, `rc-${auth}`)), await digest(local));
    const checked = await rclone(["check", local, remote], auth);
    assert.equal(checked.code, 0, `${auth}: ${checked.stderr}`);
    assert.match(checked.stderr, /0 differences found/u);
  }
  // One file changed, one removed: sync sends one file and deletes one, by size and time
  // (rclone sets each file's time with SETSTAT, so an unchanged file compares equal).
  await fs.writeFile(path.join(local, "sub", "f3.txt"), "changed, and longer\n");
  await fs.rm(path.join(local, "with space.txt"));
  const synced = await rclone(["sync", local, "bftp:/rc-password", "-v"], "password");
  assert.equal(synced.code, 0, synced.stderr);
  assert.match(synced.stderr, /f3\.txt: Copied/u);
  assert.match(synced.stderr, /with space\.txt: Deleted/u);
  const copiedLines = synced.stderr.split("\n").filter((l) => /: Copied/u.test(l));
  assert.equal(copiedLines.length, 1, copiedLines.join("\n"));
  assert.deepEqual(await digest(path.join(served, "rc-password")), await digest(local));
  const after = await rclone(["check", local, "bftp:/rc-password"], "password");
  assert.equal(after.code, 0, after.stderr);
});
